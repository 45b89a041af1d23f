package provisioning

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseXMLFull(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "snom-full.xml"))
	require.NoError(t, err)
	f, err := ParseXML(data, "snom-full.xml")
	require.NoError(t, err)

	const O, K, R = PermOverwrite, PermKeep, PermReadOnly
	require.Equal(t, []Entry{
		{"language", "English", O, 5},
		{"user_active1", "on", O, 6},
		{"user_name1", "200", O, 7},
		{"user_host1", "pbx.example.com", O, 8},
		{"user_pass1", "s3cr&t", O, 9},
		{"user_realname1", "Front Desk", O, 10},
		{"user_active2", "on", R, 11},
		{"user_name2", "201", R, 12},
		{"user_host2", "pbx.example.com", R, 13},
		{"user_pass2", "hunter2", R, 14},
		{"user_realname2", "Zoë Müller", K, 15},
		{"action_incoming_url", "http://crm.example.com/in?nr=$remote&line=$active_user", O, 16},
		{"action_outgoing_url", "http://crm.example.com/out?nr=$remote", O, 17},
		{"action_connected_url", "http://crm.example.com/up?id=$call-id", R, 18},
		{"action_disconnected_url", "http://crm.example.com/down?id=$call-id", R, 19},
		{"action_missed_url", "", O, 20},
		{"dnd_mode", "off", K, 21},
		{"http_pass", "admin", O, 22},
		{"fkey0", "line", O, 25},
		{"fkey_label0", "", O, 25},
		{"fkey_context0", "active", O, 25},
		{"fkey1", "line", O, 26},
		{"fkey_label1", "Line 2", O, 26},
		{"fkey_context1", "active", O, 26},
		{"fkey2", "blf <sip:201@pbx.example.com>|*8", R, 27},
		{"fkey_label2", "Alice", R, 27},
		{"fkey_context2", "1", R, 27},
		{"fkey3", "dest sip:300@pbx.example.com", R, 28},
		{"fkey_label3", "Sales", R, 28},
		{"fkey_context3", "active", R, 28},
		{"fkey4", "speed *97", O, 29},
		{"fkey_label4", "Voicemail", O, 29},
		{"fkey5", "url http://crm.example.com/popup?nr=$remote", K, 30},
		{"fkey_label5", "CRM", K, 30},
		{"fkey_context5", "active", K, 30},
		{"fkey6", "keyevent F_TRANSFER", O, 31},
		{"fkey_label6", "Transfer", O, 31},
		{"fkey_context6", "active", O, 31},
		{"fkey7", "none", O, 32},
		{"fkey_context7", "active", O, 32},
	}, f.Entries)
	require.Equal(t, []Contact{
		{"Alice Smith", "201", 35},
		{"Émile Zola", "+33 1 23 45 67 89", 42},
		{"Sales & Support", "300", 46},
	}, f.Contacts)
	require.Equal(t, []Include{
		{"http://prov.example.com/snom/common.xml", 55},
		{"http://prov.example.com/snom/000413A1B2C3-keys.xml", 56},
	}, f.Includes)
	require.Len(t, f.Notes, 1)
	require.Equal(t, Finding{Severity: Warning, Source: "snom-full.xml", Line: 51, Message: "skipped <dialplan>: phonesim does not read it"}, f.Notes[0])
	for _, e := range f.Entries {
		require.NoError(t, CheckName(e.Name))
	}
}

func TestParseXMLPerm(t *testing.T) {
	for _, tc := range []struct {
		attr string
		want Perm
		err  string
	}{
		{attr: ``, want: PermOverwrite},
		{attr: ` perm=""`, want: PermOverwrite},
		{attr: ` perm=" "`, want: PermReadOnly},
		{attr: ` perm="!"`, want: PermKeep},
		{attr: ` perm="&amp;"`, want: PermReadOnly},
		{attr: ` perm="$"`, want: PermOverwrite},
		{attr: ` perm="R"`, want: PermReadOnly},
		{attr: ` perm="RW"`, want: PermOverwrite},
		{attr: ` perm="rw!"`, err: `x.xml:3: user_name1: unknown perm "rw!"`},
		{attr: ` perm="  "`, err: `x.xml:3: user_name1: unknown perm "  "`},
	} {
		t.Run(tc.attr, func(t *testing.T) {
			in := "<settings>\n<phone-settings>\n<user_name idx=\"1\"" + tc.attr + ">200</user_name>\n<fkey idx=\"1\"" + tc.attr + ">line</fkey>\n</phone-settings>\n<functionKeys>\n<fkey idx=\"1\"" + tc.attr + " label=\"L\">line</fkey>\n</functionKeys>\n</settings>\n"
			f, err := ParseXML([]byte(in), "x.xml")
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Len(t, f.Entries, 4)
			for _, e := range f.Entries {
				require.Equal(t, tc.want, e.Perm, e.Name)
			}
		})
	}
	absent, err := ParseXML([]byte(`<phone-settings><a>1</a></phone-settings>`), "")
	require.NoError(t, err)
	space, err := ParseXML([]byte(`<phone-settings><a perm=" ">1</a></phone-settings>`), "")
	require.NoError(t, err)
	require.NotEqual(t, absent.Entries[0].Perm, space.Entries[0].Perm)
}

func TestParseXMLForms(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     *File
	}{
		{"phone-settings root", "<phone-settings e=\"2\">\n<user_name idx=\"01\">\n 200 \n</user_name><mwi_notification/></phone-settings>",
			&File{Entries: []Entry{{"user_name1", "200", PermOverwrite, 2}, {"mwi_notification", "", PermOverwrite, 4}}}},
		{"function-keys root", "<function-keys><fkey idx=\"12\">line</fkey></function-keys>",
			&File{Entries: []Entry{{"fkey12", "line", PermOverwrite, 1}}}},
		{"functionKeys root", "<functionKeys><fkey idx=\"999\" context=\" active \">line</fkey></functionKeys>",
			&File{Entries: []Entry{{"fkey999", "line", PermOverwrite, 1}, {"fkey_context999", "active", PermOverwrite, 1}}}},
		{"tbook root", "<tbook>\n<item><number>200</number></item>\n<item><name>Bob</name><email>b@x</email></item>\n<item><first_name>X</first_name></item></tbook>",
			&File{Contacts: []Contact{{"", "200", 2}, {"Bob", "", 3}},
				Notes: []Finding{{Severity: Warning, Line: 4, Message: "skipped phone-book <item> with neither <name> nor <number>"}}}},
		{"setting-files root", "<setting-files>\n<file url=\"a.xml\"/><other/>\n<file url=\" http://b/c.xml \"></file></setting-files>",
			&File{Includes: []Include{{"a.xml", 2}, {"http://b/c.xml", 3}},
				Notes: []Finding{{Severity: Warning, Line: 2, Message: "skipped <other> in <setting-files>: want <file>"}}}},
		{"BOM", "\ufeff<?xml version=\"1.0\"?>\n<settings><phone-settings><a>x</a></phone-settings></settings>",
			&File{Entries: []Entry{{"a", "x", PermOverwrite, 2}}}},
		{"ISO-8859-1", "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<settings><phone-settings><user_realname idx=\"1\">Ren\xe9 \xc0 \xff</user_realname></phone-settings></settings>",
			&File{Entries: []Entry{{"user_realname1", "René À ÿ", PermOverwrite, 2}}}},
		{"latin1 lower case", "<?xml version='1.0' encoding='latin1'?><phone-settings><a>caf\xe9</a></phone-settings>",
			&File{Entries: []Entry{{"a", "café", PermOverwrite, 1}}}},
		{"comments, CDATA, references", "<phone-settings><a>x<!-- c -->y<![CDATA[<z>]]>&#233;&#x41;&quot;</a></phone-settings>",
			&File{Entries: []Entry{{"a", "xy<z>éA\"", PermOverwrite, 1}}}},
		{"inner spaces kept", "<phone-settings><a>\t two  words \r\n</a></phone-settings>",
			&File{Entries: []Entry{{"a", "two  words", PermOverwrite, 1}}}},
		{"DOCTYPE without entities", "<!DOCTYPE settings>\n<settings/>",
			&File{Notes: []Finding{{Severity: Warning, Line: 1, Message: "<!…> declaration ignored: phonesim expands no entities"}}}},
		{"other sections", "<settings>\n<certificates><certificate>x</certificate></certificates>\n<uploads/><firmware-settings><firmware>f</firmware></firmware-settings></settings>",
			&File{Notes: []Finding{
				{Severity: Warning, Line: 2, Message: "skipped <certificates>: phonesim does not read it"},
				{Severity: Warning, Line: 3, Message: "skipped <uploads>: phonesim does not read it"},
				{Severity: Warning, Line: 3, Message: "skipped <firmware-settings>: phonesim does not read it"},
			}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := ParseXML([]byte(tc.in), "f.xml")
			require.NoError(t, err)
			tc.want.Name = "f.xml"
			for i := range tc.want.Notes {
				tc.want.Notes[i].Source = "f.xml"
			}
			require.Equal(t, tc.want, f)
		})
	}
}

func TestParseXMLErrors(t *testing.T) {
	const ps = "<settings>\n<phone-settings>\n"
	for _, tc := range []struct {
		name, in string
		line     int
		msg      string
	}{
		{"empty file", "", 1, "no root element: want <settings>"},
		{"only a declaration", "<?xml version=\"1.0\"?>\n\n", 3, "no root element"},
		{"truncated", ps + "<user_name idx=\"1\">200</user_name>\n", 2, "file ends inside <phone-settings> (cut short, or its closing tag is missing)"},
		{"truncated in a tag", ps + "<user_name idx=\"1", 2, "file ends inside <phone-settings>"},
		{"wrong root", "<?xml version=\"1.0\"?>\n<config><a>1</a></config>", 2, "root element <config>: want <settings>"},
		{"second root", "<settings/>\n<settings/>", 2, "second root element <settings>"},
		{"text outside root", "<settings/>\ngarbage", 2, "text outside the root element"},
		{"text after a lone CR", "<settings/>\r\rgarbage", 1, "text outside the root element"},
		{"mismatched tags", ps + "<a>1</b>", 3, "bad XML: element <a> closed by </b>"},
		{"invalid UTF-8 in a value", ps + "<a>\xff</a>", 3, "not UTF-8"},
		{"invalid UTF-8 in a comment", "<!--\n\xc3(-->\n<settings/>", 2, "not UTF-8"},
		{"unsupported encoding", "<?xml version=\"1.0\" encoding=\"UTF-16\"?>\n<settings/>", 1, `unsupported encoding "UTF-16"`},
		{"unsupported encoding windows-1252", "<?xml version='1.0' encoding='windows-1252'?><settings/>", 1, `unsupported encoding "windows-1252"`},
		{"late declaration", "<settings>\n<?xml version=\"1.0\"?></settings>", 2, "<?xml …?> declaration after the first element"},
		{"undefined entity", ps + "<a>&nbsp;</a>", 3, "invalid character entity &nbsp;"},
		{"nested element", ps + "<user_name idx=\"1\">\n<b>200</b></user_name>", 4, "user_name1: element <b> inside a setting: a setting holds only text"},
		{"nested element in fkey", "<functionKeys><fkey idx=\"1\">\n<x/></fkey></functionKeys>", 2, "fkey1: element <x> inside a setting"},
		{"bad setting name", ps + "<user_name idx=\"1\"/>\n<" + strings.Repeat("x", 65) + ">1</" + strings.Repeat("x", 65) + ">", 4, "bad setting name"},
		{"bad idx", ps + "<user_name idx=\"one\">1</user_name>", 3, `user_name: idx "one": want a number from 0 to 999`},
		{"fkey without idx", "<functionKeys>\n<fkey>line</fkey></functionKeys>", 2, "fkey: missing idx"},
		{"fkey empty idx", "<functionKeys>\n<fkey idx=\"\">line</fkey></functionKeys>", 2, "fkey: missing idx"},
		{"fkey idx not a number", "<functionKeys>\n\n<fkey idx=\"3a\">line</fkey></functionKeys>", 3, `fkey: idx "3a": want a number from 0 to 999`},
		{"fkey idx too big", "<functionKeys><fkey idx=\"1000\">line</fkey></functionKeys>", 1, `idx "1000"`},
		{"fkey idx negative", "<functionKeys><fkey idx=\"-1\">line</fkey></functionKeys>", 1, `idx "-1"`},
		{"fkey idx signed", "<functionKeys><fkey idx=\"+1\">line</fkey></functionKeys>", 1, `idx "+1"`},
		{"empty include url", "<setting-files>\n<file url=\"http://a/b.xml\"/>\n<file url=\"\"/></setting-files>", 3, "<file> without a url"},
		{"include without url", "<setting-files><file/></setting-files>", 1, "<file> without a url"},
		{"value too long", ps + "<a>" + strings.Repeat("x", maxXMLValue+1) + "</a>", 3, "a: value longer than 65536 bytes"},
		{"attribute too long", "<functionKeys>\n<fkey idx=\"1\" label=\"" + strings.Repeat("x", maxXMLValue+1) + "\">line</fkey></functionKeys>", 2, "attribute label of <fkey> longer than 65536 bytes"},
		{"too many entries", "<phone-settings>\n" + strings.Repeat("<a>1</a>\n", maxXMLItems+1) + "</phone-settings>", maxXMLItems + 2, "more than 20000 settings"},
		{"too deep", "<settings>\n<x>" + strings.Repeat("<x>", maxXMLDepth), 2, "elements nested more than 32 deep"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := ParseXML([]byte(tc.in), "bad.xml")
			require.Nil(t, f)
			var se *SettingError
			require.ErrorAs(t, err, &se)
			require.Equal(t, "bad.xml", se.File)
			require.Equal(t, tc.line, se.Line, err.Error())
			require.Contains(t, err.Error(), tc.msg)
		})
	}
}

func TestParseXMLXXE(t *testing.T) {
	passwd, _ := os.ReadFile("/etc/passwd")
	for _, in := range []string{
		"<?xml version=\"1.0\"?><!DOCTYPE settings [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\n<settings><phone-settings>\n<user_name idx=\"1\">&xxe;</user_name></phone-settings></settings>",
		"<!DOCTYPE settings [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\n<settings><phone-settings>\n<user_name idx=\"1\" perm=\"&xxe;\">1</user_name></phone-settings></settings>",
		"<!DOCTYPE settings SYSTEM \"file:///etc/passwd\">\n<settings><phone-settings>\n<user_name idx=\"1\">&xxe;</user_name></phone-settings></settings>",
	} {
		f, err := ParseXML([]byte(in), "xxe.xml")
		require.Nil(t, f)
		require.ErrorContains(t, err, "xxe.xml:3: bad XML: invalid character entity &xxe;")
		require.NotContains(t, err.Error(), "root:")
		if len(passwd) > 0 {
			require.NotContains(t, err.Error(), strings.SplitN(string(passwd), "\n", 2)[0])
		}
	}
}

func TestParseXMLBillionLaughs(t *testing.T) {
	var b strings.Builder
	b.WriteString("<?xml version=\"1.0\"?>\n<!DOCTYPE settings [\n<!ENTITY lol \"lol\">\n")
	for i := 1; i <= 9; i++ {
		prev := "lol"
		if i > 1 {
			prev = "lol" + string(rune('0'+i-1))
		}
		b.WriteString("<!ENTITY lol" + string(rune('0'+i)) + " \"" + strings.Repeat("&"+prev+";", 10) + "\">\n")
	}
	b.WriteString("]>\n<settings><phone-settings><user_realname idx=\"1\">&lol9;</user_realname></phone-settings></settings>\n")
	start := time.Now()
	f, err := ParseXML([]byte(b.String()), "lol.xml")
	require.Less(t, time.Since(start), time.Second)
	require.Nil(t, f)
	require.ErrorContains(t, err, "lol.xml:14: bad XML: invalid character entity &lol9;")
}

func TestParseXMLDeepNesting(t *testing.T) {
	const n = 20000
	in := "<settings>" + strings.Repeat("<a>", n) + strings.Repeat("</a>", n) + "</settings>"
	start := time.Now()
	f, err := ParseXML([]byte(in), "deep.xml")
	require.Less(t, time.Since(start), time.Second)
	require.Nil(t, f)
	require.EqualError(t, err, "deep.xml:1: elements nested more than 32 deep")

	ok := "<settings><x>" + strings.Repeat("<a>", maxXMLDepth-2) + strings.Repeat("</a>", maxXMLDepth-2) + "</x></settings>"
	_, err = ParseXML([]byte(ok), "deep.xml")
	require.NoError(t, err)
}

func TestParseXMLTooLarge(t *testing.T) {
	in := "<settings><!--" + strings.Repeat("x", MaxFileSize) + "--></settings>"
	f, err := ParseXML([]byte(in), "big.xml")
	require.Nil(t, f)
	require.ErrorIs(t, err, ErrTooLarge)
	var se *SettingError
	require.ErrorAs(t, err, &se)
	require.Equal(t, "big.xml", se.File)
}

func TestParseXMLTooManyNotes(t *testing.T) {
	f, err := ParseXML([]byte("<settings>"+strings.Repeat("<x/>", 500)+"</settings>"), "n.xml")
	require.NoError(t, err)
	require.Len(t, f.Notes, maxXMLNotes+1)
	require.Equal(t, "further warnings left out", f.Notes[maxXMLNotes].Message)
}

func FuzzParseXML(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.xml"))
	for _, name := range files {
		data, err := os.ReadFile(name)
		require.NoError(f, err)
		f.Add(data)
	}
	for _, s := range []string{
		"",
		"<settings/>",
		"\ufeff<phone-settings><a idx=\"1\" perm=\" \">x</a></phone-settings>",
		"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<tbook><item><name>\xe9</name></item></tbook>",
		"<functionKeys><fkey idx=\"3\" context=\"active\" label=\"Sales\" perm=\"R\">blf sip:200@pbx</fkey></functionKeys>",
		"<!DOCTYPE settings [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]><settings><phone-settings><a>&xxe;</a></phone-settings></settings>",
		"<setting-files><file url=\"http://a/b\"/></setting-files>",
		"<settings><dialplan><x><y/></x></dialplan>\n</settings>",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := ParseXML(data, "fuzz.xml")
		lines := bytes.Count(data, []byte("\n")) + 1
		if err != nil {
			var se *SettingError
			if !errors.As(err, &se) || se.File != "fuzz.xml" || se.Line < 0 || se.Line > lines {
				t.Fatalf("error %#v is not a *SettingError for fuzz.xml within %d lines", err, lines)
			}
			if file != nil {
				t.Fatal("file and error both returned")
			}
			return
		}
		inRange := func(what string, line int) {
			if line < 1 || line > lines {
				t.Fatalf("%s: line %d outside 1..%d", what, line, lines)
			}
		}
		for _, e := range file.Entries {
			if err := CheckName(e.Name); err != nil {
				t.Fatalf("entry %q: %v", e.Name, err)
			}
			inRange(e.Name, e.Line)
		}
		for _, c := range file.Contacts {
			inRange("contact", c.Line)
		}
		for _, in := range file.Includes {
			inRange("include", in.Line)
		}
		for _, n := range file.Notes {
			inRange("note", n.Line)
		}
	})
}
