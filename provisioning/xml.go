package provisioning

// A phone fetches its XML setting files from whatever answers the
// provisioning URL, so the parser treats them as hostile: entities are
// never expanded, and depth, counts and sizes are bounded.

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits far above any real snom file, low enough that a hostile one
// fails fast.
const (
	maxXMLDepth = 32       // snom files nest 4 deep
	maxXMLItems = 20000    // entries, contacts and includes together
	maxXMLValue = 64 << 10 // bytes in one value or attribute
	maxXMLNotes = 100
)

const xmlSpace = " \t\r\n"

// ParseXML parses a snom XML setting file: <settings> holding
// <phone-settings>, <functionKeys> (or <function-keys>), <tbook> and
// <setting-files>, or one of those as the root. Other sections are
// skipped with a warning in File.Notes. The file is UTF-8 (a byte-order
// mark is skipped) unless it declares ISO-8859-1 or US-ASCII. Any error
// is a *SettingError naming the file and line.
func ParseXML(data []byte, name string) (*File, error) {
	if len(data) > MaxFileSize {
		return nil, &SettingError{File: name, Err: fmt.Errorf("%w (over %d bytes)", ErrTooLarge, MaxFileSize)}
	}
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	p := &xmlParser{data: data, f: &File{Name: name}}
	p.d = xml.NewDecoder(bytes.NewReader(data))
	p.d.Strict = true
	p.d.CharsetReader = p.charset
	if err := p.document(); err != nil {
		return nil, err
	}
	return p.f, nil
}

type xmlParser struct {
	data   []byte
	d      *xml.Decoder
	f      *File
	line   int // where the last token started
	open   []openElem
	root   bool
	latin1 bool
	csErr  error
}

type openElem struct {
	tag  string
	line int
}

func (p *xmlParser) errf(line int, name, format string, args ...any) error {
	return &SettingError{File: p.f.Name, Line: line, Name: name, Err: fmt.Errorf(format, args...)}
}

func (p *xmlParser) note(line int, format string, args ...any) {
	if n := len(p.f.Notes); n == maxXMLNotes {
		format, args = "further warnings left out", nil
	} else if n > maxXMLNotes {
		return
	}
	p.f.Notes = append(p.f.Notes, Finding{Severity: Warning, Source: p.f.Name, Line: line, Message: fmt.Sprintf(format, args...)})
}

// charset is the Decoder's CharsetReader. Latin-1 maps each byte to the
// rune of the same number; US-ASCII is a subset of it.
func (p *xmlParser) charset(label string, r io.Reader) (io.Reader, error) {
	switch strings.ToLower(label) {
	case "utf8":
		return r, nil
	case "iso-8859-1", "iso8859-1", "latin1", "latin-1", "us-ascii", "ascii":
		rest, err := io.ReadAll(r)
		if err != nil {
			return nil, err
		}
		var b strings.Builder
		b.Grow(len(rest) * 2)
		for _, c := range rest {
			b.WriteRune(rune(c))
		}
		p.latin1 = true
		return strings.NewReader(b.String()), nil
	}
	p.csErr = fmt.Errorf("unsupported encoding %s (save the file as UTF-8, or declare ISO-8859-1)", quoteShort(label))
	return nil, p.csErr
}

// next returns the next token, tracking open elements. It returns io.EOF
// only at the end of a well-formed document.
func (p *xmlParser) next() (xml.Token, error) {
	p.line, _ = p.d.InputPos()
	tok, err := p.d.Token()
	if err != nil {
		return nil, p.decodeErr(err)
	}
	switch t := tok.(type) {
	case xml.StartElement:
		if len(p.open) >= maxXMLDepth {
			return nil, p.errf(p.line, "", "elements nested more than %d deep", maxXMLDepth)
		}
		if len(p.open) == 0 && !p.latin1 {
			if off := invalidUTF8(p.data); off >= 0 {
				return nil, p.errf(bytes.Count(p.data[:off], []byte("\n"))+1, "", "not UTF-8 (save the file as UTF-8, or declare encoding=\"ISO-8859-1\")")
			}
		}
		for _, a := range t.Attr {
			if len(a.Value) > maxXMLValue {
				return nil, p.errf(p.line, "", "attribute %s of <%s> longer than %d bytes", a.Name.Local, t.Name.Local, maxXMLValue)
			}
		}
		p.open = append(p.open, openElem{t.Name.Local, p.line})
	case xml.EndElement:
		p.open = p.open[:len(p.open)-1]
	case xml.ProcInst:
		if t.Target == "xml" && (p.root || len(p.open) > 0) {
			return nil, p.errf(p.line, "", "<?xml …?> declaration after the first element: it belongs at the top")
		}
	}
	return tok, nil
}

func (p *xmlParser) decodeErr(err error) error {
	if p.csErr != nil {
		return p.errf(p.line, "", "%v", p.csErr)
	}
	if err == io.EOF {
		return io.EOF // Strict mode reports EOF inside an element as a SyntaxError
	}
	var se *xml.SyntaxError
	if !errors.As(err, &se) {
		return p.errf(p.line, "", "bad XML: %s", strings.ToValidUTF8(strings.TrimPrefix(err.Error(), "xml: "), "\uFFFD"))
	}
	msg := strings.ToValidUTF8(se.Msg, "\uFFFD")
	switch {
	case strings.HasPrefix(msg, "unexpected EOF") && len(p.open) > 0:
		o := p.open[len(p.open)-1]
		return p.errf(o.line, "", "file ends inside <%s> (cut short, or its closing tag is missing)", o.tag)
	case strings.HasPrefix(msg, "invalid character entity"):
		msg += " (only &amp; &lt; &gt; &apos; &quot; and &#…; are allowed; entities a DOCTYPE declares are not read)"
	case msg == "invalid UTF-8":
		msg = "not UTF-8 (save the file as UTF-8, or declare encoding=\"ISO-8859-1\")"
	}
	return p.errf(se.Line, "", "bad XML: %s", msg)
}

func invalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return -1
}

func (p *xmlParser) document() error {
	for {
		tok, err := p.next()
		if err == io.EOF {
			if !p.root {
				return p.errf(p.line, "", "no root element: want <settings>")
			}
			return nil
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if p.root {
				return p.errf(p.line, "", "second root element <%s>: a file has one root", t.Name.Local)
			}
			p.root = true
			if err := p.rootElem(t); err != nil {
				return err
			}
		case xml.CharData:
			if text := bytes.TrimLeft(t, xmlSpace); len(text) > 0 {
				end, _ := p.d.InputPos() // a lone \r reads as \n but does not count as a line
				return p.errf(min(end, p.line+bytes.Count(t[:len(t)-len(text)], []byte("\n"))), "", "text outside the root element")
			}
		case xml.Directive:
			p.note(p.line, "<!…> declaration ignored: phonesim expands no entities")
		}
	}
}

func (p *xmlParser) rootElem(t xml.StartElement) error {
	if isSection(t.Name.Local) {
		return p.section(t)
	}
	if t.Name.Local == "settings" {
		return p.children(func(c xml.StartElement) error {
			if isSection(c.Name.Local) {
				return p.section(c)
			}
			p.note(p.line, "skipped <%s>: phonesim does not read it", c.Name.Local)
			return p.skip()
		})
	}
	return p.errf(p.line, "", "root element <%s>: want <settings> (or <phone-settings>, <functionKeys>, <tbook>, <setting-files>)", t.Name.Local)
}

func isSection(tag string) bool {
	switch tag {
	case "phone-settings", "functionKeys", "function-keys", "tbook", "setting-files":
		return true
	}
	return false
}

// children calls each for every child element of the element just
// opened; each must consume the child through its end tag.
func (p *xmlParser) children(each func(xml.StartElement) error) error {
	for {
		tok, err := p.next()
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			line := p.line
			if err := each(t); err != nil {
				return err
			}
			if len(p.f.Entries)+len(p.f.Contacts)+len(p.f.Includes) > maxXMLItems {
				return p.errf(line, "", "more than %d settings, contacts and files in one file", maxXMLItems)
			}
		case xml.EndElement:
			return nil
		}
	}
}

func (p *xmlParser) skip() error {
	level := len(p.open)
	for {
		tok, err := p.next()
		if err != nil {
			return err
		}
		if _, ok := tok.(xml.EndElement); ok && len(p.open) < level {
			return nil
		}
	}
}

// only returns a children callback that hands elements named tag to
// read and skips the rest with a warning.
func (p *xmlParser) only(section, tag string, read func(xml.StartElement) error) func(xml.StartElement) error {
	return func(c xml.StartElement) error {
		if c.Name.Local == tag {
			return read(c)
		}
		p.note(p.line, "skipped <%s> in <%s>: want <%s>", c.Name.Local, section, tag)
		return p.skip()
	}
}

func (p *xmlParser) section(t xml.StartElement) error {
	s := t.Name.Local
	switch s {
	case "phone-settings":
		return p.children(p.setting)
	case "functionKeys", "function-keys":
		return p.children(p.only(s, "fkey", p.fkey))
	case "tbook":
		return p.children(p.only(s, "item", p.item))
	}
	return p.children(p.only(s, "file", p.include))
}

// text reads the character data of the element just opened, through its
// end tag. A setting holds text only.
func (p *xmlParser) text(name string) (string, error) {
	line := p.line
	var b strings.Builder
	for {
		tok, err := p.next()
		if err != nil {
			return "", err
		}
		switch t := tok.(type) {
		case xml.CharData:
			if b.Len()+len(t) > maxXMLValue {
				return "", p.errf(line, name, "value longer than %d bytes", maxXMLValue)
			}
			b.Write(t)
		case xml.StartElement:
			return "", p.errf(p.line, name, "element <%s> inside a setting: a setting holds only text", t.Name.Local)
		case xml.EndElement:
			return strings.Trim(b.String(), xmlSpace), nil
		}
	}
}

func attr(t xml.StartElement, key string) (string, bool) {
	for _, a := range t.Attr {
		if a.Name.Space == "" && a.Name.Local == key {
			return a.Value, true
		}
	}
	return "", false
}

// idxPerm reads the idx and perm attributes every setting may carry.
func (p *xmlParser) idxPerm(t xml.StartElement, line int, tag string) (idx string, perm Perm, err error) {
	if raw, _ := attr(t, "idx"); strings.Trim(raw, xmlSpace) != "" {
		raw = strings.Trim(raw, xmlSpace)
		n, err := strconv.Atoi(raw)
		if err != nil || n > 999 || strings.Trim(raw, "0123456789") != "" {
			return "", 0, p.errf(line, tag, "idx %s: want a number from 0 to 999", quoteShort(raw))
		}
		idx = strconv.Itoa(n)
	}
	s, _ := attr(t, "perm")
	if perm, err = ParsePerm(s); err != nil {
		return "", 0, p.errf(line, nameOf(tag, idx), "%v", err)
	}
	return idx, perm, nil
}

func (p *xmlParser) setting(t xml.StartElement) error {
	line := p.line
	idx, perm, err := p.idxPerm(t, line, t.Name.Local)
	if err != nil {
		return err
	}
	name := nameOf(t.Name.Local, idx)
	if CheckName(name) != nil {
		return p.errf(line, quoteShort(name), "bad setting name (letters, digits, '_', '-' and '.', at most 64)")
	}
	value, err := p.text(name)
	if err != nil {
		return err
	}
	p.f.Entries = append(p.f.Entries, Entry{Name: name, Value: value, Perm: perm, Line: line})
	return nil
}

// fkey reads <fkey idx="3" label="Sales" context="active">blf …</fkey>
// into fkey3, fkey_label3 and fkey_context3.
func (p *xmlParser) fkey(t xml.StartElement) error {
	line := p.line
	idx, perm, err := p.idxPerm(t, line, "fkey")
	if err != nil {
		return err
	}
	if idx == "" {
		return p.errf(line, "fkey", "missing idx: want idx=\"0\" to idx=\"999\"")
	}
	value, err := p.text("fkey" + idx)
	if err != nil {
		return err
	}
	p.f.Entries = append(p.f.Entries, Entry{Name: "fkey" + idx, Value: value, Perm: perm, Line: line})
	for _, a := range []string{"label", "context"} {
		if v, ok := attr(t, a); ok {
			p.f.Entries = append(p.f.Entries, Entry{Name: "fkey_" + a + idx, Value: strings.Trim(v, xmlSpace), Perm: perm, Line: line})
		}
	}
	return nil
}

func (p *xmlParser) item(t xml.StartElement) error {
	c := Contact{Line: p.line}
	err := p.children(func(e xml.StartElement) error {
		var err error
		switch e.Name.Local {
		case "name":
			c.Name, err = p.text("tbook name")
		case "number":
			c.Number, err = p.text("tbook number")
		default:
			err = p.skip()
		}
		return err
	})
	if err != nil {
		return err
	}
	if c.Name == "" && c.Number == "" {
		p.note(c.Line, "skipped phone-book <item> with neither <name> nor <number>")
		return nil
	}
	p.f.Contacts = append(p.f.Contacts, c)
	return nil
}

func (p *xmlParser) include(t xml.StartElement) error {
	line := p.line
	url, _ := attr(t, "url")
	if url = strings.Trim(url, xmlSpace); url == "" {
		return p.errf(line, "", "<file> without a url: want <file url=\"http://…\"/>")
	}
	if err := p.skip(); err != nil {
		return err
	}
	p.f.Includes = append(p.f.Includes, Include{URL: url, Line: line})
	return nil
}
