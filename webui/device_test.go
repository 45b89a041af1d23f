package webui_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"phonesim/device"
	"phonesim/provisioning"
	"phonesim/sipua"
	"phonesim/webui"
)

// TestWithDevice runs the settings form, /dummy.htm and the run-time
// credentials against the real phone: its store checks perms and values.
func TestWithDevice(t *testing.T) {
	st := provisioning.NewStore()
	f, err := provisioning.Parse([]byte("user_name1: 100\ndnd_mode&: off\nfkey_label2!: Bob\n"), "desk.cfg")
	require.NoError(t, err)
	require.False(t, provisioning.HasError(st.AddFile(f)))
	require.False(t, provisioning.HasError(st.SetCommandLine([]provisioning.Entry{{Name: "call_waiting", Value: "off", Perm: provisioning.PermReadOnly}})))
	d, err := device.New(device.Config{Store: st, SIP: "127.0.0.1:0", Media: sipua.MediaSilence})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	require.NoError(t, d.Start(ctx))
	defer func() {
		cancel()
		select {
		case <-d.Done():
		case <-time.After(5 * time.Second):
			t.Error("the phone's loop did not stop")
		}
	}()
	h := webui.New(d, webui.Options{})
	do := func(method, target, form string, auth ...string) (int, string) {
		t.Helper()
		var body io.Reader
		if form != "" {
			body = strings.NewReader(form)
		}
		r := httptest.NewRequest(method, target, body)
		r.Host = "127.0.0.1:8080"
		if form != "" {
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		if len(auth) == 2 {
			r.SetBasicAuth(auth[0], auth[1])
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code, w.Body.String()
	}

	code, page := do(http.MethodGet, "/settings.htm", "")
	require.Equal(t, 200, code)
	require.Contains(t, page, `<select name="dnd_mode" disabled><option>on</option><option selected>off</option></select> <small class="ro">read-only (perm &#34;&amp;&#34; from desk.cfg)</small>`)
	require.Contains(t, page, `<select name="call_waiting" disabled>`)
	require.Contains(t, page, `<td>call_waiting</td><td><select name="call_waiting" disabled><option>on</option><option selected>off</option></select> <small class="ro">read-only (perm &#34;&amp;&#34; from --set)</small></td><td title="read-only">&amp;</td><td>command line</td>`)
	require.Contains(t, page, `<input name="fkey_label2" value="Bob"> <span title="user may change; provisioning keeps the change">!</span> <small>file desk.cfg</small>`)

	// a good change
	code, page = do(http.MethodPost, "/settings.htm", "user_realname1=Front+Desk&fkey_label2=Alice&user_name1=100")
	require.Equal(t, 200, code, page)
	require.Contains(t, page, "saved 2 settings")
	require.Equal(t, "Front Desk", d.Setting("user_realname1"))
	require.Equal(t, "Alice", d.Setting("fkey_label2"))
	require.Contains(t, page, `<td>user_realname1</td><td><input name="user_realname1" value="Front Desk"></td><td title="user may change; provisioning overwrites">$</td><td>user</td>`)

	// a bad value and a read-only one: nothing saved
	code, page = do(http.MethodPost, "/settings.htm", "user_realname1=Other&user_expiry1=5&dnd_mode=on")
	require.Equal(t, 400, code, page)
	require.Contains(t, page, "nothing was saved")
	require.Contains(t, page, "5 is out of range 30–86400")
	require.Contains(t, page, "dnd_mode: read-only")
	require.Equal(t, "Front Desk", d.Setting("user_realname1"))
	require.Equal(t, "off", d.Setting("dnd_mode"))

	// dummy.htm
	code, page = do(http.MethodGet, "/dummy.htm?settings=save&redirect_event=busy&redirect_busy_number=200", "")
	require.Equal(t, 200, code, page)
	require.Equal(t, "busy", d.Setting("redirect_event"))
	code, page = do(http.MethodGet, "/dummy.htm?settings=save&redirect_event=never&redirect_time=30", "")
	require.Equal(t, 400, code, page)
	require.Contains(t, page, "dummy.htm: error: redirect_event")
	require.Equal(t, "20", d.Setting("redirect_time"), "nothing applied")
	code, page = do(http.MethodGet, "/dummy.htm?settings=save&call_waiting=on", "")
	require.Equal(t, 400, code, page)
	require.Contains(t, page, `call_waiting: read-only (perm "&" from --set)`)

	// a password set through the web takes effect at once
	code, _ = do(http.MethodGet, "/dummy.htm?settings=save&http_user=admin&http_pass=s3cret", "")
	require.Equal(t, 200, code)
	code, _ = do(http.MethodGet, "/api/state", "")
	require.Equal(t, 401, code)
	code, _ = do(http.MethodGet, "/api/state", "", "admin", "s3cret")
	require.Equal(t, 200, code)
	code, page = do(http.MethodGet, "/settings.htm", "", "admin", "s3cret")
	require.Equal(t, 200, code)
	require.NotContains(t, page, "s3cret")
	require.Contains(t, page, `name="http_pass" autocomplete="new-password"> (set)`)

	// the fetch button: no setting server here, the log says so
	code, page = do(http.MethodPost, "/settings.htm", "action=reprovision", "admin", "s3cret")
	require.Equal(t, 200, code, page)
	require.Contains(t, page, "no setting_server is set")
	require.Eventually(t, func() bool {
		return strings.Contains(strings.Join(d.Log().Lines(), "\n"), "no setting_server is set")
	}, 5*time.Second, 10*time.Millisecond)
}
