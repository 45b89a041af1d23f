package fleet

import (
	"fmt"
	"io"
	"strings"
)

// WritePlot writes an SVG of the run: calls per second and failures per
// second (top), setup time p50 and p99 (bottom), against seconds since
// the first call.
func WritePlot(w io.Writer, bs []Bucket) error {
	const W, H, left, right, top, gap, panel = 800, 520, 60, 20, 30, 50, 200
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="11">`+"\n", W, H, W, H)
	b.WriteString(`<rect width="100%" height="100%" fill="white"/>` + "\n")
	n := len(bs)
	x := func(i int) float64 {
		if n <= 1 {
			return left
		}
		return left + float64(i)*float64(W-left-right)/float64(n-1)
	}
	type series struct {
		name, color string
		v           func(Bucket) float64
	}
	drawPanel := func(y0 int, title, unit string, ss []series) {
		maxv := 1.0
		for _, s := range ss {
			for _, bk := range bs {
				maxv = max(maxv, s.v(bk))
			}
		}
		y := func(v float64) float64 { return float64(y0+panel) - v/maxv*panel }
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="13">%s</text>`+"\n", left, y0-8, title)
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#999"/>`+"\n", left, y0, W-left-right, panel)
		for _, f := range []float64{0, 0.5, 1} {
			fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end">%.4g%s</text>`+"\n", left-4, y(f*maxv)+4, f*maxv, unit)
		}
		for k, s := range ss {
			var pts []string
			for i, bk := range bs {
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(i), y(s.v(bk))))
			}
			fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="1.5" points="%s"/>`+"\n", s.color, strings.Join(pts, " "))
			fmt.Fprintf(&b, `<text x="%d" y="%d" fill="%s">%s</text>`+"\n", W-right-160+k*80, y0-8, s.color, s.name)
		}
	}
	drawPanel(top, "calls per second", "", []series{
		{"attempted", "#1f77b4", func(b Bucket) float64 { return float64(b.Attempted) }},
		{"failed", "#d62728", func(b Bucket) float64 { return float64(b.Failed) }},
	})
	drawPanel(top+panel+gap, "setup time (dial → connected)", "ms", []series{
		{"p50", "#2ca02c", func(b Bucket) float64 { return b.SetupP50 }},
		{"p99", "#ff7f0e", func(b Bucket) float64 { return b.SetupP99 }},
	})
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle">seconds since the first call (%d s)</text>`+"\n", (W+left)/2, H-12, n)
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}
