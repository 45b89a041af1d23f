package actionurl

import "strings"

// SplitArgs splits a pascom client action's argument line into tokens:
// tokens are separated by spaces (or tabs); a double quote starts or ends a
// quoted stretch in which spaces are part of the token; three double quotes
// in a row stand for one literal '"', inside or outside a quoted stretch.
// A pair of quotes with nothing between them is an empty token (`a "" b`
// is three tokens); an unclosed quote runs to the end of the line.
func SplitArgs(s string) []string {
	var (
		args    []string
		tok     strings.Builder
		inTok   bool // a token has started, even if it is still empty
		quoted  bool
		literal = `"""`
	)
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case strings.HasPrefix(s[i:], literal):
			tok.WriteByte('"')
			inTok = true
			i += len(literal)
		case c == '"':
			quoted = !quoted
			inTok = true
			i++
		case (c == ' ' || c == '\t') && !quoted:
			if inTok {
				args = append(args, tok.String())
				tok.Reset()
				inTok = false
			}
			i++
		default:
			tok.WriteByte(c)
			inTok = true
			i++
		}
	}
	if inTok {
		args = append(args, tok.String())
	}
	return args
}

// ExpandArgs substitutes ${name} in each token, giving exactly one argument
// per token whatever the values hold: spaces, quotes, '$' and shell
// characters in a value stay inside that one argument (there is no shell).
// An unknown name expands to empty; a '$' that starts no ${name} stays.
// NUL bytes, which an argument cannot hold, are removed from values.
//
// A value may begin with '-' and so look like an option to the program;
// write templates as "--name=${name}" or put "--" before them when the
// program reads options.
func ExpandArgs(tokens []string, vars Vars) []string {
	out := make([]string, len(tokens))
	for i, t := range tokens {
		out[i] = expandArg(t, vars)
	}
	return out
}

func expandArg(t string, vars Vars) string {
	if !strings.Contains(t, "${") {
		return t
	}
	var b strings.Builder
	for i := 0; i < len(t); {
		if strings.HasPrefix(t[i:], "${") {
			if n := strings.IndexByte(t[i+2:], '}'); n > 0 && isArgName(t[i+2:i+2+n]) {
				if vars != nil {
					v, _ := vars.Lookup(t[i+2 : i+2+n])
					b.WriteString(strings.ReplaceAll(v, "\x00", ""))
				}
				i += 2 + n + 1
				continue
			}
		}
		b.WriteByte(t[i])
		i++
	}
	return b.String()
}

// isArgName reports whether s may name a client action parameter: name,
// number, MDC_LABEL-X, MDC_SKILL-X (X a label or skill, which may hold dots
// and spaces).
func isArgName(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f || c == '$' || c == '{' || c == '}' {
			return false
		}
	}
	return true
}
