package httpjson

import "testing"

func TestWhetherATemplateDependsOnTheInstantIsReadFromItsTree(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       bool
	}{
		{"a fixed path does not", "/api/stats?period=28d", false},
		{"the period does not", `/api/stats?from={{ date "2006-01-02" .PeriodStart }}&to={{ date "2006-01-02" .PeriodEnd }}`, false},
		{"a function of constants does not", `/api/{{ printf "%s-%d" "x" 3 | urlquery }}`, false},
		{"a comment does not", `/api/stats{{/* .Now */}}`, false},
		{".Now does", `/api/stats?to={{ date "2006-01-02" .Now }}`, true},
		{".WindowStart does", `/api/stats?from={{ unix .WindowStart }}`, true},
		{"a method of .Now does", `/api/stats?to={{ date "2006-01-02" (.Now.AddDate 0 0 -1) }}`, true},
		{".Now piped into a function does", `/api/stats?to={{ .Now | date "2006-01-02" }}`, true},
		{"$.Now does", `/api/stats?to={{ unix $.Now }}`, true},
		{"a variable holding .Now does", `{{ $end := .Now }}/api/stats?to={{ unix $end }}`, true},
		{"a variable holding the period does not", `{{ $s := .PeriodStart }}/api/stats?from={{ unix $s }}`, false},
		{"a variable assigned .Now later in a loop does", `{{ $t := .PeriodStart }}{{ range $i, $x := "ab" }}{{ unix $t }}{{ $t = $.Now }}{{ end }}`, true},
		{"the dot of with .Now does", `{{ with .Now }}/api/stats?to={{ unix . }}{{ end }}`, true},
		{"the dot of with .PeriodStart does not", `{{ with .PeriodStart }}/api/stats?from={{ unix . }}{{ end }}`, false},
		{"with the data as a whole keeps its fields apart", `{{ with . }}/api/stats?from={{ unix .PeriodStart }}{{ end }}`, false},
		{"with the data as a whole still reaches .Now", `{{ with . }}/api/stats?to={{ unix .Now }}{{ end }}`, true},
		{"a condition on .Now does", `/api/stats{{ if .Now.After .PeriodEnd }}?final=1{{ end }}`, true},
		{"printing the data as a whole does", `/api/stats?q={{ . }}`, true},
		{"handing the data to a function does", `/api/stats?q={{ printf "%v" . | urlquery }}`, true},
		{"a defined template given the data does when it reads .Now", `{{ define "to" }}{{ unix .Now }}{{ end }}/api?to={{ template "to" . }}`, true},
		{"a defined template given the period does not", `{{ define "t" }}{{ unix . }}{{ end }}/api?from={{ template "t" .PeriodStart }}`, false},
		{"a defined template given .Now does", `{{ define "t" }}{{ unix . }}{{ end }}/api?to={{ template "t" .Now }}`, true},
		{"a template that calls itself ends", `{{ define "t" }}{{ if false }}{{ template "t" . }}{{ end }}{{ end }}/api{{ template "t" .PeriodStart }}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tmpl, err := parseTemplate("path", tc.text)
			if err != nil {
				t.Fatal(err)
			}
			if got := usesInstant(tmpl); got != tc.want {
				t.Errorf("usesInstant(%q) = %v, want %v", tc.text, got, tc.want)
			}
		})
	}
}
