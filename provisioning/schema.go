package provisioning

import (
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Kind is the type of a setting's value.
type Kind uint8

const (
	String  Kind = iota
	Bool         // on / off
	Int          // a whole number within Min..Max
	Enum         // one of Values
	Set          // a comma-separated subset of Values
	URL          // an http or https URL (may hold $variables); empty is off
	SIPURI       // a number, user@host or a sip: URI; empty is none
	Fkey         // a function key: TYPE ARG
	Seconds      // "off" or a whole number within Min..Max
	MAC          // 12 hex digits
	Host         // host[:port]
)

func (k Kind) String() string {
	return [...]string{"string", "on/off", "number", "one of", "any of", "URL", "SIP URI", "function key", "seconds or off", "MAC", "host[:port]"}[k]
}

// Family says how a setting is numbered.
type Family uint8

const (
	Single      Family = iota // one setting, no number
	PerIdentity               // user_name1 … user_name12
	PerKey                    // fkey0 … fkey85 (P1–P32, then 18 per module)
	PerAction                 // client_action_name1 … client_action_name32
)

// MaxClientActions is how many client actions a phone holds.
const MaxClientActions = 32

// maxKeys is fkey0…fkey85: P1–P32 and three modules of 18.
const maxKeys = 32 + 3*18

// Spec describes one setting (or one numbered family of settings). The
// schema table below is the only list of settings: validation,
// /settings.htm, `phonesim check` and docs/settings.md all read it.
type Spec struct {
	Name     string // flat name; for a family the name without its number
	Family   Family
	Kind     Kind
	Default  string
	Min, Max int      // Int and Seconds
	Values   []string // Enum and Set
	Secret   bool     // never shown, logged or substituted into a URL
	Group    string   // the settings page it belongs to
	Doc      string   // one line for the page and the docs
}

// Groups, in the order the settings page shows them (like a snom
// phone's web pages).
const (
	GroupIdentities = "Identities"
	GroupKeys       = "Function keys"
	GroupActionURLs = "Action URLs"
	GroupClient     = "Client actions"
	GroupBehaviour  = "Behaviour"
	GroupNetwork    = "Network and provisioning"
)

// Groups lists the groups in page order.
var Groups = []string{GroupIdentities, GroupKeys, GroupActionURLs, GroupClient, GroupBehaviour, GroupNetwork}

var onOff = []string{"on", "off"}

// schema is every setting the phone reads.
var schema = []Spec{
	// identities
	{Name: "user_name", Family: PerIdentity, Group: GroupIdentities, Doc: "user part of the identity's SIP URI (account); identity 1 is 100 when nothing is set"},
	{Name: "user_realname", Family: PerIdentity, Group: GroupIdentities, Doc: "display name, sent in the From of outgoing calls"},
	{Name: "user_host", Family: PerIdentity, Kind: Host, Group: GroupIdentities, Doc: "registrar and proxy; empty: a local identity reachable at sip:user@ip:port"},
	{Name: "user_pname", Family: PerIdentity, Group: GroupIdentities, Doc: "authentication user name, when it differs from user_name"},
	{Name: "user_pass", Family: PerIdentity, Secret: true, Group: GroupIdentities, Doc: "password for digest authentication"},
	{Name: "user_mailbox", Family: PerIdentity, Group: GroupIdentities, Doc: "voicemail number: the F_VOICEMAIL key dials it; set, the identity subscribes to message-summary (MWI)"},
	{Name: "user_active", Family: PerIdentity, Kind: Bool, Default: "on", Values: onOff, Group: GroupIdentities, Doc: "the identity is in use"},
	{Name: "user_expiry", Family: PerIdentity, Kind: Int, Default: "3600", Min: 30, Max: 86400, Group: GroupIdentities, Doc: "registration time asked for, in seconds"},
	{Name: "user_auto_connect", Family: PerIdentity, Kind: Bool, Default: "off", Values: onOff, Group: GroupIdentities, Doc: "answer incoming calls at once"},

	// function keys
	{Name: "fkey", Family: PerKey, Kind: Fkey, Group: GroupKeys, Doc: "TYPE ARG: line, dest URI, speed NUMBER, blf URI, url URL, keyevent F_…, dtmf DIGITS, none"},
	{Name: "fkey_label", Family: PerKey, Group: GroupKeys, Doc: "the key's label"},
	{Name: "fkey_context", Family: PerKey, Kind: Enum, Default: "active", Values: contexts(), Group: GroupKeys, Doc: "identity the key acts for: active or 1–12"},

	// Action URLs (snom's names)
	{Name: "action_setup_url", Kind: URL, Group: GroupActionURLs, Doc: "boot finished"},
	{Name: "action_incoming_url", Kind: URL, Group: GroupActionURLs, Doc: "incoming call starts ringing"},
	{Name: "action_outgoing_url", Kind: URL, Group: GroupActionURLs, Doc: "outgoing call dialed"},
	{Name: "action_offhook_url", Kind: URL, Group: GroupActionURLs, Doc: "off hook"},
	{Name: "action_onhook_url", Kind: URL, Group: GroupActionURLs, Doc: "on hook"},
	{Name: "action_connected_url", Kind: URL, Group: GroupActionURLs, Doc: "call connected"},
	{Name: "action_disconnected_url", Kind: URL, Group: GroupActionURLs, Doc: "call ended"},
	{Name: "action_missed_url", Kind: URL, Group: GroupActionURLs, Doc: "missed call"},
	{Name: "action_dnd_on_url", Kind: URL, Group: GroupActionURLs, Doc: "DND switched on"},
	{Name: "action_dnd_off_url", Kind: URL, Group: GroupActionURLs, Doc: "DND switched off"},
	{Name: "action_redirection_on_url", Kind: URL, Group: GroupActionURLs, Doc: "redirection switched on"},
	{Name: "action_redirection_off_url", Kind: URL, Group: GroupActionURLs, Doc: "redirection switched off"},
	{Name: "action_reg_failed", Kind: URL, Group: GroupActionURLs, Doc: "registration failed"},
	{Name: "action_registered_url", Kind: URL, Group: GroupActionURLs, Doc: "registered (phonesim's; Yealink and Grandstream have it)"},
	{Name: "action_log_on_url", Kind: URL, Group: GroupActionURLs, Doc: "identity logged on (hot-desking)"},
	{Name: "action_log_off_url", Kind: URL, Group: GroupActionURLs, Doc: "identity logged off (hot-desking)"},
	{Name: "action_hold", Kind: URL, Group: GroupActionURLs, Doc: "call put on hold"},
	{Name: "action_unhold", Kind: URL, Group: GroupActionURLs, Doc: "call taken off hold"},
	{Name: "action_transfer", Kind: URL, Group: GroupActionURLs, Doc: "call transferred"},
	{Name: "action_blind_transfer", Kind: URL, Group: GroupActionURLs, Doc: "call transferred blind"},
	{Name: "action_attended_transfer", Kind: URL, Group: GroupActionURLs, Doc: "call transferred attended"},
	{Name: "action_longpress_url", Kind: URL, Group: GroupActionURLs, Doc: "key held long"},

	// client actions (pascom)
	{Name: "client_action_name", Family: PerAction, Group: GroupClient, Doc: "the action's name"},
	{Name: "client_action_type", Family: PerAction, Kind: Enum, Default: "url", Values: []string{"url", "app"}, Group: GroupClient, Doc: "url: a GET; app: a local program"},
	{Name: "client_action_target", Family: PerAction, Group: GroupClient, Doc: "the URL, or the program and its arguments"},
	{Name: "client_action_trigger", Family: PerAction, Kind: Enum, Default: "manual", Values: []string{"ringing", "accepted", "hangup", "manual"}, Group: GroupClient, Doc: "when it runs"},
	{Name: "client_action_direction", Family: PerAction, Kind: Enum, Default: "both", Values: []string{"incoming", "outgoing", "both"}, Group: GroupClient, Doc: "which calls"},
	{Name: "client_action_calltype", Family: PerAction, Kind: Set, Default: "internal,external,queue", Values: []string{"internal", "external", "queue"}, Group: GroupClient, Doc: "which kinds of call"},
	{Name: "client_action_enabled", Family: PerAction, Kind: Bool, Default: "on", Values: onOff, Group: GroupClient, Doc: "the action is in use"},
	{Name: "client_action_favorite", Kind: Int, Default: "0", Min: 0, Max: MaxClientActions, Group: GroupClient, Doc: "the favourite action's number (0: none): the Action key and softkey run it"},
	{Name: "client_action_internal_length", Kind: Int, Default: "4", Min: 1, Max: 20, Group: GroupClient, Doc: "a call with a number of at most this many digits (or a name, sip:alice@…) is internal; longer numbers are external"},
	{Name: "client_action_queue_header", Default: "X-Queue", Group: GroupClient, Doc: "a call whose INVITE carries this header (the PBX's queue name) is a queue call"},
	{Name: "client_action_timeout", Kind: Int, Default: "30", Min: 1, Max: 3600, Group: GroupClient, Doc: "seconds an app action may run before its process group is killed"},

	// behaviour
	{Name: "dnd_mode", Kind: Bool, Default: "off", Values: onOff, Group: GroupBehaviour, Doc: "Do Not Disturb: incoming calls get 480"},
	{Name: "redirect_event", Kind: Enum, Default: "none", Values: []string{"none", "all", "busy", "time"}, Group: GroupBehaviour, Doc: "redirection: answer 302 always, when busy, or after redirect_time"},
	{Name: "redirect_number", Kind: SIPURI, Group: GroupBehaviour, Doc: "target of redirect_event=all"},
	{Name: "redirect_busy_number", Kind: SIPURI, Group: GroupBehaviour, Doc: "target of redirect_event=busy"},
	{Name: "redirect_time_number", Kind: SIPURI, Group: GroupBehaviour, Doc: "target of redirect_event=time"},
	{Name: "redirect_time", Kind: Int, Default: "20", Min: 1, Max: 3600, Group: GroupBehaviour, Doc: "seconds of ringing before redirect_event=time redirects"},
	{Name: "call_waiting", Kind: Bool, Default: "on", Values: onOff, Group: GroupBehaviour, Doc: "a second call rings while one is connected"},
	{Name: "answer_after_policy", Kind: Enum, Default: "off", Values: []string{"off", "idle", "always", "not_busy"}, Group: GroupBehaviour, Doc: "intercom and paging: when a call asking to be answered (Call-Info answer-after, Alert-Info info=alert-autoanswer, Auto Answer, Ring Answer) is answered on the speaker by itself: off never, idle only with no other call, not_busy unless another call is active (held calls allow it), always"},
	{Name: "answer_after_trusted", Kind: String, Group: GroupBehaviour, Doc: "hosts or IP addresses (comma-separated; * any) whose auto-answer requests are obeyed, besides the identity's registrar and outbound proxy (phonesim's); others ring normally"},
	{Name: "trust_pai", Kind: Bool, Default: "on", Values: onOff, Group: GroupBehaviour, Doc: "P-Asserted-Identity, else Remote-Party-ID, replaces the From as the caller shown and in $remote/$display_remote (phonesim's)"},
	{Name: "ring_sound", Kind: Enum, Default: "Ringer1", Values: ringSounds, Group: GroupBehaviour, Doc: "the ring of an incoming call no Alert-Info chose another for"},
	{Name: "alert_internal_ring_text", Kind: String, Default: "alert-internal", Group: GroupBehaviour, Doc: "Alert-Info info= value of an internal call"},
	{Name: "alert_internal_ring_sound", Kind: Enum, Default: "Ringer2", Values: ringSounds, Group: GroupBehaviour, Doc: "ring of a call whose Alert-Info matches alert_internal_ring_text"},
	{Name: "alert_external_ring_text", Kind: String, Default: "alert-external", Group: GroupBehaviour, Doc: "Alert-Info info= value of an external call"},
	{Name: "alert_external_ring_sound", Kind: Enum, Default: "Ringer1", Values: ringSounds, Group: GroupBehaviour, Doc: "ring of a call whose Alert-Info matches alert_external_ring_text"},
	{Name: "alert_group_ring_text", Kind: String, Default: "alert-group", Group: GroupBehaviour, Doc: "Alert-Info info= value of a ring-group call"},
	{Name: "alert_group_ring_sound", Kind: Enum, Default: "Ringer3", Values: ringSounds, Group: GroupBehaviour, Doc: "ring of a call whose Alert-Info matches alert_group_ring_text"},
	{Name: "max_calls", Kind: Int, Default: "4", Min: 1, Max: 12, Group: GroupBehaviour, Doc: "call appearances (phonesim's; snom fixes it per model)"},
	{Name: "auto_dial", Kind: Seconds, Default: "off", Min: 1, Max: 60, Group: GroupBehaviour, Doc: "seconds after the last digit before the number is sent"},
	{Name: "ringing_time", Kind: Int, Default: "180", Min: 0, Max: 3600, Group: GroupBehaviour, Doc: "seconds an unanswered call rings before it is missed (0: until the caller gives up)"},
	{Name: "timer_support", Kind: Bool, Default: "on", Values: onOff, Group: GroupBehaviour, Doc: "SIP session timers (RFC 4028): calls are refreshed, and one nobody refreshed ends with a BYE"},
	{Name: "session_timer", Kind: Int, Default: "3600", Min: 0, Max: 86400, Group: GroupBehaviour, Doc: "session interval asked for, in seconds (Session-Expires; at least 90, the Min-SE; 0: no session timer)"},
	{Name: "rtp_timeout", Kind: Seconds, Default: "60", Min: 5, Max: 3600, Group: GroupBehaviour, Doc: "a connected call not on hold ends after this many seconds without RTP received (phonesim's; off: never)"},
	{Name: "codec_priority_list", Family: PerIdentity, Kind: Set, Default: "pcmu,pcma,telephone-event", Values: []string{"pcmu", "pcma", "g722", "g729", "gsm", "g723", "g726-24", "g726-32", "g726-40", "aal2-g726-32", "ilbc", "opus", "telephone-event"}, Group: GroupBehaviour, Doc: "codecs offered and taken, in priority order (snom's names); phonesim has pcmu, pcma and telephone-event and leaves the others out"},
	{Name: "tone_scheme", Kind: Enum, Default: "GER", Values: []string{"aus", "aut", "chn", "dnk", "esp", "fra", "gbr", "ger", "ind", "ita", "jpn", "mex", "nld", "nor", "nzl", "swe", "swi", "usa"}, Group: GroupBehaviour, Doc: "country of the dial, ringback, busy and call-waiting tones (snom's codes: USA, GER, GBR …)"},
	{Name: "audio_in_file", Group: GroupBehaviour, Doc: "the microphone: a WAV file (16-bit PCM, mono, 8 or 16 kHz) sent in a loop in every call (phonesim's; --audio-in)"},
	{Name: "record_calls", Kind: Bool, Default: "off", Values: onOff, Group: GroupBehaviour, Doc: "record every call to a stereo WAV file in record_dir: left sent, right received (phonesim's)"},
	{Name: "record_dir", Group: GroupBehaviour, Doc: "folder of call recordings; empty: recordings in the working directory (phonesim's)"},
	{Name: "mc_address", Family: PerIdentity, Group: GroupBehaviour, Doc: "multicast paging (snom's): IPv4 multicast IP:PORT whose RTP (PCMU, PCMA) the phone plays, with snom's options after it, comma-separated: priority=0..10 (10 highest; default 5; the highest streaming plays, a higher one preempts), interrupt=0..3 (during a call: 0 ignore the page, 1 play it over the call, 2 mix it, 3 hold the call until the page ends), speaker=, volmax= (no effect here)"},
	{Name: "mc_ignore_dnd", Kind: Bool, Default: "off", Values: onOff, Group: GroupBehaviour, Doc: "multicast pages play even with DND on (phonesim's; like Yealink's multicast.receive.ignore_dnd; snom has none)"},

	// network, web and provisioning
	{Name: "phone_type", Default: "snomD785", Group: GroupNetwork, Doc: "model (--model)"},
	{Name: "mac", Kind: MAC, Default: "000413000000", Group: GroupNetwork, Doc: "MAC address (--mac)"},
	{Name: "expansion_modules", Kind: Int, Default: "0", Min: 0, Max: 3, Group: GroupNetwork, Doc: "expansion modules attached, 18 keys each (--expansion)"},
	{Name: "http_user", Group: GroupNetwork, Doc: "web interface user name"},
	{Name: "http_pass", Secret: true, Group: GroupNetwork, Doc: "web interface password; empty: the web interface listens only on loopback"},
	{Name: "http_allowed_origins", Group: GroupNetwork, Doc: "origins (space-separated) whose authenticated requests may change the phone"},
	{Name: "setting_server", Kind: URL, Group: GroupNetwork, Doc: "setting server URL; {mac} and {phone_type} are replaced; no file name: <phone_type>.xml, then <phone_type>-<MAC>.xml"},
	{Name: "setting_server_user", Group: GroupNetwork, Doc: "user name for the setting server (Basic or Digest)"},
	{Name: "setting_server_pass", Secret: true, Group: GroupNetwork, Doc: "password for the setting server"},
	{Name: "provisioning_interval", Kind: Int, Default: "0", Min: 0, Max: 525600, Group: GroupNetwork, Doc: "minutes between fetches of the setting server (0: only at boot and on REPROVISION)"},
}

func contexts() []string {
	v := []string{"active"}
	for i := 1; i <= MaxIdentities; i++ {
		v = append(v, strconv.Itoa(i))
	}
	return v
}

var specs = func() map[string]*Spec {
	m := make(map[string]*Spec, len(schema))
	for i := range schema {
		m[schema[i].Name] = &schema[i]
	}
	return m
}()

// Schema returns the schema table, in page order within each group.
func Schema() []Spec { return append([]Spec(nil), schema...) }

// Range returns the numbers a family's settings take.
func (f Family) Range() (lo, hi int) {
	switch f {
	case PerIdentity:
		return 1, MaxIdentities
	case PerKey:
		return 0, maxKeys - 1
	case PerAction:
		return 1, MaxClientActions
	}
	return 0, -1
}

// Lookup finds the spec of a flat name ("user_name3", "fkey12", "mac")
// and its number (-1 for a single setting).
func Lookup(name string) (*Spec, int, bool) {
	if s, ok := specs[name]; ok && s.Family == Single {
		return s, -1, true
	}
	base, idx := splitIndex(name)
	if idx < 0 {
		return nil, -1, false
	}
	s, ok := specs[base]
	if !ok || s.Family == Single {
		return nil, -1, false
	}
	if lo, hi := s.Family.Range(); idx < lo || idx > hi || strconv.Itoa(idx) != name[len(base):] {
		return nil, -1, false
	}
	return s, idx, true
}

// Known reports whether name is a setting the phone reads.
func Known(name string) bool {
	_, _, ok := Lookup(name)
	return ok
}

// Names lists every known flat name, families expanded, in schema order.
func KnownNames() []string {
	var names []string
	for _, s := range schema {
		if s.Family == Single {
			names = append(names, s.Name)
			continue
		}
		lo, hi := s.Family.Range()
		for i := lo; i <= hi; i++ {
			names = append(names, s.Name+strconv.Itoa(i))
		}
	}
	return names
}

// Validate checks a value against the setting's spec. Unknown names are
// not an error here (Suggest names the nearest one); a bad value is. The
// error says what is wanted.
func Validate(name, value string) error {
	s, _, ok := Lookup(name)
	if !ok {
		return nil
	}
	return s.validate(value)
}

// maxValueLen caps one value; a URL template or a label is far shorter.
const maxValueLen = 4096

func (s *Spec) validate(value string) error {
	if len(value) > maxValueLen {
		return fmt.Errorf("value too long (%d bytes, at most %d)", len(value), maxValueLen)
	}
	if !utf8.ValidString(value) {
		return fmt.Errorf("value is not UTF-8")
	}
	// a line break or NUL would not survive the flat form the user's
	// changes are kept in; other control characters are kept (and shown
	// inert, as network text is)
	if strings.ContainsAny(value, "\r\n\x00") {
		return fmt.Errorf("value holds a line break or NUL")
	}
	v := strings.TrimSpace(value)
	switch s.Kind {
	case Bool:
		switch strings.ToLower(v) {
		case "on", "off", "true", "false":
			return nil
		}
		return fmt.Errorf("%s: want on or off", quoteShort(value))
	case Int:
		return checkInt(v, s.Min, s.Max)
	case Seconds:
		if strings.EqualFold(v, "off") || v == "" {
			return nil
		}
		if err := checkInt(v, s.Min, s.Max); err != nil {
			return fmt.Errorf("%v, or off", err)
		}
	case Enum:
		if !contains(s.Values, strings.ToLower(v)) {
			return fmt.Errorf("%s: want one of %s", quoteShort(value), strings.Join(s.Values, ", "))
		}
	case Set:
		for part := range strings.SplitSeq(v, ",") {
			if p := strings.ToLower(strings.TrimSpace(part)); p != "" && !contains(s.Values, p) {
				return fmt.Errorf("%s: want any of %s, comma-separated", quoteShort(part), strings.Join(s.Values, ", "))
			}
		}
	case URL:
		if v == "" {
			return nil
		}
		return CheckURL(v)
	case SIPURI:
		if strings.ContainsAny(v, " \t<>\"") {
			return fmt.Errorf("%s: a number, user@host or sip: URI has no spaces, <, > or quotes", quoteShort(value))
		}
	case Host:
		if strings.ContainsAny(v, " \t/@;<>\"") {
			return fmt.Errorf("%s: want host or host:port", quoteShort(value))
		}
	case MAC:
		if len(v) != 12 || strings.Trim(strings.ToLower(v), "0123456789abcdef") != "" {
			return fmt.Errorf("%s: want 12 hex digits", quoteShort(value))
		}
	case Fkey:
		return CheckFkey(v)
	}
	return nil
}

func checkInt(v string, lo, hi int) error {
	n, err := strconv.Atoi(v)
	if err != nil {
		return fmt.Errorf("%s: want a number from %d to %d", quoteShort(v), lo, hi)
	}
	if n < lo || n > hi {
		return fmt.Errorf("%d is out of range %d–%d", n, lo, hi)
	}
	return nil
}

// CheckURL accepts an http or https URL template: $variables may stand
// anywhere, but the scheme is literal, so a value can never make the
// phone fetch another kind of URL.
func CheckURL(v string) error {
	lower := strings.ToLower(v)
	if !strings.HasPrefix(lower, "http://") && !strings.HasPrefix(lower, "https://") {
		return fmt.Errorf("%s: only http:// and https:// URLs are fetched", quoteShort(v))
	}
	if strings.ContainsAny(v, " \t") {
		return fmt.Errorf("%s: a URL has no spaces (write %%20)", quoteShort(v))
	}
	rest := v[strings.Index(v, "//")+2:]
	if rest == "" || rest[0] == '/' || rest[0] == '?' {
		return fmt.Errorf("%s: no host", quoteShort(v))
	}
	// variables are replaced before the fetch; what remains must parse
	probe := strings.NewReplacer("$", "x", "{", "x", "}", "x").Replace(v)
	if _, err := url.Parse(probe); err != nil {
		return fmt.Errorf("%s: not a URL", quoteShort(v))
	}
	return nil
}

// Fkey types phonesim carries out, and snom types it knows but does not
// (a file from a real snom deployment carries them: a warning, not an
// error).
var (
	fkeyTypes            = []string{"line", "dest", "speed", "blf", "url", "keyevent", "dtmf", "none"}
	fkeyTypesUnsupported = []string{"orbit", "park", "intercom", "icom", "presence", "xml", "button", "multicast", "p2t", "push2talk", "transfer", "redirect", "conference", "recorder", "action_url", "ivr", "callforward", "hotdesk", "mobile", "prefix", "split", "direct"}
	// KeyEvents maps the keyevent names phonesim acts on to the hard key
	// they press.
	keyEventsSupported   = []string{"F_DND", "F_REDIAL", "F_HOLD", "F_TRANSFER", "F_MUTE", "F_REDIRECT", "F_CONFERENCE", "F_MENU", "F_SETTINGS", "F_HEADSET", "F_SPEAKER", "F_CANCEL", "F_OK", "F_ENTER", "F_REC", "F_VOICEMAIL"}
	keyEventsUnsupported = []string{"F_LOGOFF_ALL", "F_ADR_BOOK", "F_CALL_LIST", "F_R", "F_NEXT_ID", "F_PREV_ID", "F_MISSED_LIST", "F_DIALED_LIST", "F_RECEIVED_LIST", "F_REGS", "F_HELP", "F_PICKUP", "F_INTERCOM", "F_STATUS", "F_PRESENCE", "F_PARK", "F_CALLPICKUP", "F_DIRECTORY", "F_LOCK", "F_SHOW_INFO", "F_CALL_FORWARD", "F_VOLUME_UP", "F_VOLUME_DOWN"}
)

// SupportedKeyEvents lists the keyevent names phonesim carries out.
func SupportedKeyEvents() []string { return append([]string(nil), keyEventsSupported...) }

// Unsupported is returned (wrapped) for a function key snom knows and
// phonesim does not carry out: a warning, not an error.
type Unsupported struct{ What string }

func (u *Unsupported) Error() string {
	return u.What + " is not supported by phonesim: the key does nothing"
}

// CheckFkey checks a function key value, "TYPE ARG".
func CheckFkey(v string) error {
	kind, arg, _ := strings.Cut(strings.TrimSpace(v), " ")
	kind, arg = strings.ToLower(kind), strings.TrimSpace(arg)
	switch {
	case kind == "" || kind == "none" || kind == "line":
		return nil
	case kind == "dest" || kind == "speed" || kind == "blf":
		if arg == "" {
			return fmt.Errorf("%s needs a target (%s sip:200@pbx or %s 200)", kind, kind, kind)
		}
	case kind == "url":
		if arg == "" {
			return fmt.Errorf("url needs a URL")
		}
		return CheckURL(arg)
	case kind == "dtmf":
		if arg == "" || strings.Trim(strings.ToUpper(arg), "0123456789*#ABCD") != "" {
			return fmt.Errorf("dtmf %s: want digits 0-9, *, #, A-D", quoteShort(arg))
		}
	case kind == "keyevent":
		ev := strings.ToUpper(arg)
		if contains(keyEventsSupported, ev) {
			return nil
		}
		if contains(keyEventsUnsupported, ev) {
			return &Unsupported{What: "keyevent " + ev}
		}
		return fmt.Errorf("unknown keyevent %s: want one of %s", quoteShort(arg), strings.Join(keyEventsSupported, ", "))
	case contains(fkeyTypesUnsupported, kind):
		return &Unsupported{What: "function key type " + kind}
	default:
		return fmt.Errorf("unknown function key type %s: want %s", quoteShort(kind), strings.Join(fkeyTypes, ", "))
	}
	return nil
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// Suggest names the known setting nearest to an unknown name ("" when
// nothing is close): user_nmae1 → user_name1.
func Suggest(name string) string {
	base, idx := splitIndex(name)
	best, bestD := "", 1<<30
	try := func(candidate, compareTo, against string) {
		d := distance(against, compareTo)
		if d < bestD || d == bestD && candidate < best {
			best, bestD = candidate, d
		}
	}
	for _, s := range schema {
		if s.Family == Single {
			try(s.Name, s.Name, name)
			continue
		}
		if idx >= 0 {
			try(s.Name+name[len(base):], s.Name, base)
		} else {
			lo, _ := s.Family.Range()
			try(s.Name+strconv.Itoa(lo), s.Name, name)
		}
	}
	limit := len(name) / 3
	if limit < 2 {
		limit = 2
	}
	if bestD > limit {
		return ""
	}
	return best
}

// distance is the Damerau-Levenshtein (optimal string alignment)
// distance, so a swap of two letters ("nmae") counts one.
func distance(a, b string) int {
	if len(a) > 128 || len(b) > 128 {
		return 1 << 20
	}
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := 0; j <= len(b); j++ {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

// sortedNames returns the keys of m, sorted.
func sortedNames[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// ringSounds are snom's ring names (ring_sound, alert_*_ring_sound).
var ringSounds = []string{"ringer1", "ringer2", "ringer3", "ringer4", "ringer5", "ringer6", "ringer7", "ringer8", "ringer9", "ringer10", "silent", "custom"}
