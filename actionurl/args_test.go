package actionurl

import (
	"reflect"
	"testing"
)

func TestSplitArgs(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{``, nil},
		{`   `, nil},
		{`crm`, []string{"crm"}},
		{`--nr ${number}`, []string{"--nr", "${number}"}},
		{`a  b	c`, []string{"a", "b", "c"}},
		{` lead trail `, []string{"lead", "trail"}},
		{`"two words" x`, []string{"two words", "x"}},
		{`--name="${name}"`, []string{"--name=${name}"}},
		{`a"b c"d`, []string{"ab cd"}},
		{`""`, []string{""}},
		{`a "" b`, []string{"a", "", "b"}},
		{`say """hi"""`, []string{"say", `"hi"`}},
		{`"say """hi""" now"`, []string{`say "hi" now`}},
		{`""""`, []string{`"`}},
		{`"""`, []string{`"`}},
		{`"unclosed quote`, []string{"unclosed quote"}},
		{`x 'single quotes' y`, []string{"x", "'single", "quotes'", "y"}},
		{`back\slash`, []string{`back\slash`}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := SplitArgs(tt.in); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("SplitArgs(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestExpandArgs(t *testing.T) {
	vars := Map{
		"name":            `Bob "; rm -rf / #`,
		"number":          "+49 30 1234",
		"MDC_LABEL-queue": "Sales",
		"empty":           "",
		"nul":             "a\x00b",
	}
	tests := []struct {
		name string
		in   []string
		want []string
	}{
		{"none", nil, []string{}},
		{"plain", []string{"--open", "crm"}, []string{"--open", "crm"}},
		{"one value one argument", []string{"${name}"}, []string{`Bob "; rm -rf / #`}},
		{"spaces stay in the argument", []string{"--nr=${number}"}, []string{"--nr=+49 30 1234"}},
		{"two in one token", []string{"${number}/${MDC_LABEL-queue}"}, []string{"+49 30 1234/Sales"}},
		{"unknown is empty", []string{"x${nope}y"}, []string{"xy"}},
		{"empty value keeps the argument", []string{"${empty}", "z"}, []string{"", "z"}},
		{"bare dollar is not a variable", []string{"$name", "$"}, []string{"$name", "$"}},
		{"unclosed", []string{"${name"}, []string{"${name"}},
		{"empty name", []string{"${}"}, []string{"${}"}},
		{"nul removed", []string{"${nul}"}, []string{"ab"}},
		{"value not expanded again", []string{"${x}"}, []string{"${number}"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := vars
			if tt.name == "value not expanded again" {
				v = Map{"x": "${number}", "number": "1"}
			}
			if got := ExpandArgs(tt.in, v); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ExpandArgs(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestSplitThenExpand(t *testing.T) {
	got := ExpandArgs(SplitArgs(`--caller "${name} (${number})" --note """${name}"""`), Map{"name": "Ann Lee", "number": "200"})
	want := []string{"--caller", "Ann Lee (200)", "--note", `"Ann Lee"`}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}
