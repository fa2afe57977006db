package jira

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestMembersAndElements(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want map[string]string // members' raw values; nil: an error
		err  string
	}{
		{"a search page with its token after the issues", `{"issues":[{"id":"1","fields":{"summary":"a \"}\" in a string ]"}},{"id":"2"}],"nextPageToken":"tok","isLast":false}`,
			map[string]string{"issues": `[{"id":"1","fields":{"summary":"a \"}\" in a string ]"}},{"id":"2"}]`, "nextPageToken": `"tok"`, "isLast": `false`}, ""},
		{"white space and escapes in names", " {\n \"a\\u0062\" : 1 ,\"c\":null}\n", map[string]string{"ab": `1`, "c": `null`}, ""},
		{"an empty object", `{}`, map[string]string{}, ""},
		{"a backslash before the closing quote", `{"a":"x\\","b":2}`, map[string]string{"a": `"x\\"`, "b": `2`}, ""},
		{"the last member wins", `{"a":1,"a":2}`, map[string]string{"a": `2`}, ""},
		{"a page cut off in the middle", `{"issues":[{"id":"10001","key":"X-1","fields":{"status":`, nil, "unexpected end"},
		{"a string cut off", `{"a":"abc`, nil, "unexpected end"},
		{"not an object", `[1,2]`, nil, "not a JSON object"},
		{"a missing colon", `{"a" 1}`, nil, "want ':'"},
		{"a missing value", `{"a":}`, nil, "want a value"},
		{"data after the object", `{"a":1} x`, nil, "want the end"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := members([]byte(tt.in))
			if tt.want == nil {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("members = %q, %v; want an error with %q", got, err, tt.err)
				}
				return
			}
			if err != nil || len(got) != len(tt.want) {
				t.Fatalf("members = %q, %v; want %q", got, err, tt.want)
			}
			for k, v := range tt.want {
				if string(got[k]) != v {
					t.Errorf("member %s = %s, want %s", k, got[k], v)
				}
			}
		})
	}
	els, err := elements([]byte(` [ {"a":[1,{"b":"]"}]}, "x" ,3 ] `))
	if err != nil || len(els) != 3 || string(els[0]) != `{"a":[1,{"b":"]"}]}` || string(els[1]) != `"x"` || string(els[2]) != `3` {
		t.Errorf("elements = %q, %v", els, err)
	}
	if els, err := elements([]byte(`null`)); err != nil || els != nil {
		t.Errorf("elements of null = %q, %v", els, err)
	}
	if _, err := elements([]byte(`[1,2`)); err == nil {
		t.Error("elements of a cut-off array succeeded")
	}
}

// FuzzMembersAgreeWithEncodingJSON: on every document encoding/json reads
// as an object (or an array), members (elements) find the same values,
// byte for byte.
func FuzzMembersAgreeWithEncodingJSON(f *testing.F) {
	for _, s := range []string{
		`{"issues":[{"id":"1"}],"nextPageToken":"t","isLast":false}`, `{"a":"\\\"","b":[{"c":"}"}]}`,
		`[1,"2",{"3":[4]}]`, `{}`, `[]`, ` {"a" : -1.5e3 , "b":true}`, `{"\u00e9":null}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var obj map[string]json.RawMessage
		if json.Unmarshal(data, &obj) == nil && obj != nil {
			got, err := members(data)
			if err != nil {
				t.Fatalf("members(%q): %v; encoding/json reads it", data, err)
			}
			if len(got) != len(obj) {
				t.Fatalf("members(%q) = %d members, encoding/json %d", data, len(got), len(obj))
			}
			for k, v := range obj {
				if !bytes.Equal(got[k], v) {
					t.Fatalf("members(%q)[%q] = %s, encoding/json %s", data, k, got[k], v)
				}
			}
		}
		var arr []json.RawMessage
		if json.Unmarshal(data, &arr) == nil && arr != nil {
			got, err := elements(data)
			if err != nil || len(got) != len(arr) {
				t.Fatalf("elements(%q) = %q, %v; encoding/json %q", data, got, err, arr)
			}
			for i := range arr {
				if !bytes.Equal(got[i], arr[i]) {
					t.Fatalf("elements(%q)[%d] = %s, encoding/json %s", data, i, got[i], arr[i])
				}
			}
		}
	})
}
