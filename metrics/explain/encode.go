package explain

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// ResultJSON is the JSON shape of a Result (docs/api.md): the value, its
// metric, window, quantile and rule, and the rows as objects keyed by the
// columns, each with its contribution (and weight, for a ratio) and its
// mark.
type ResultJSON struct {
	Objective  string    `json:"objective"`
	KeyResult  string    `json:"key_result"`
	Source     string    `json:"source"`
	SourceType string    `json:"source_type"`
	Metric     string    `json:"metric,omitempty"`
	At         time.Time `json:"at"`
	Value      *float64  `json:"value"`
	Unit       string    `json:"unit,omitempty"`
	Window     *Window   `json:"window"`
	Quantile   *float64  `json:"quantile"`
	Rule       Rule      `json:"rule,omitempty"`
	Divisor    *float64  `json:"divisor,omitempty"`
	Of         string    `json:"level_of,omitempty"`
	How        string    `json:"how,omitempty"`
	Note       string    `json:"note,omitempty"`
	Message    string    `json:"message,omitempty"`
	Columns    []Column  `json:"columns"`
	Rows       []RowJSON `json:"rows"`
	TotalRows  int       `json:"total_rows"`
	Truncated  bool      `json:"truncated"`
}

// RowJSON is one row: its values by column key, plus link, contribution,
// weight and mark.
type RowJSON map[string]any

// JSON returns the JSON shape with at most limit rows (limit <= 0: all).
func (r *Result) JSON(limit int) ResultJSON {
	out := ResultJSON{Objective: r.Objective, KeyResult: r.KeyResult, Source: r.Source, SourceType: r.SourceType, Metric: r.Metric,
		At: r.At.UTC(), Unit: r.Unit, Window: r.Window, Rule: r.Rule, Of: r.Of, How: r.How, Note: r.Note, Message: r.Message,
		Columns: r.Columns, Rows: []RowJSON{}, TotalRows: len(r.Rows)}
	if out.Columns == nil {
		out.Columns = []Column{}
	}
	if r.HasValue {
		v := r.Value
		out.Value = &v
	}
	if r.Rule == Quantile || r.Rule == Level && r.Quantile > 0 {
		q := r.Quantile
		out.Quantile = &q
	}
	if r.Rule == Sum {
		d := r.Divisor
		out.Divisor = &d
	}
	rows := r.Rows
	if limit > 0 && len(rows) > limit {
		rows, out.Truncated = rows[:limit], true
	}
	for _, row := range rows {
		j := RowJSON{"contribution": row.Contribution}
		for i, c := range r.Columns {
			j[c.Key] = jsonValue(c.Kind, row.Values[i])
		}
		if row.Link != "" {
			j["link"] = row.Link
		}
		if r.Rule == Ratio {
			j["weight"] = row.Weight
		}
		if row.Mark != "" {
			j["mark"] = string(row.Mark)
		}
		out.Rows = append(out.Rows, j)
	}
	return out
}

func jsonValue(k Kind, v any) any {
	if t, ok := v.(time.Time); ok {
		if t.IsZero() {
			return nil
		}
		return t.UTC()
	}
	return v
}

// CSVHeader is the header of the CSV: the columns' keys, then link,
// contribution, weight and mark.
func (r *Result) CSVHeader() []string {
	h := make([]string, 0, len(r.Columns)+4)
	for _, c := range r.Columns {
		h = append(h, c.Key)
	}
	return append(h, "link", "contribution", "weight", "mark")
}

// WriteCSV writes every row as CSV with a header: times in RFC 3339,
// durations in seconds. A cell that a spreadsheet would take for a
// formula is prefixed with a quote.
func (r *Result) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(r.CSVHeader()); err != nil {
		return err
	}
	rec := make([]string, 0, len(r.Columns)+4)
	for _, row := range r.Rows {
		rec = rec[:0]
		for i := range r.Columns {
			rec = append(rec, csvSafe(plain(row.Values[i])))
		}
		weight := ""
		if r.Rule == Ratio {
			weight = num(row.Weight)
		}
		rec = append(rec, csvSafe(row.Link), num(row.Contribution), weight, string(row.Mark))
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// csvSafe defuses a cell that a spreadsheet would evaluate (CSV
// injection): one starting with =, +, - or @ gets a leading quote, except
// a plain number.
func csvSafe(s string) string {
	if s == "" || !strings.ContainsAny(s[:1], "=+-@\t\r") {
		return s
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return s
	}
	return "'" + s
}

// plain is a value as text: times in RFC 3339 (none: empty), numbers in
// the shortest form.
func plain(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case time.Time:
		if x.IsZero() {
			return ""
		}
		return x.UTC().Format(time.RFC3339)
	case float64:
		return num(x)
	case int:
		return strconv.Itoa(x)
	case bool:
		return strconv.FormatBool(x)
	}
	return fmt.Sprint(v)
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// WriteTable writes the result for a terminal: a heading with the value
// and how the rows make it, then the rows aligned in columns, values
// shown by human (durations as "2 h 5 min" through human).
func (r *Result) WriteTable(w io.Writer, human func(Kind, any) string) error {
	value := "no value"
	if r.HasValue {
		value = num(r.Value)
		if r.Unit != "" {
			value += " " + r.Unit
		}
	}
	fmt.Fprintf(w, "%s/%s (%s, %s): %s at %s\n", r.Objective, r.KeyResult, r.Source, r.Metric, value, r.At.UTC().Format(time.RFC3339))
	if r.Window != nil {
		fmt.Fprintf(w, "window: %s to %s\n", r.Window.From.UTC().Format(time.RFC3339), r.Window.To.UTC().Format(time.RFC3339))
	}
	if r.How != "" {
		fmt.Fprintf(w, "value: %s\n", r.How)
	}
	if r.Note != "" {
		fmt.Fprintf(w, "note: %s\n", r.Note)
	}
	if r.Message != "" {
		fmt.Fprintf(w, "%s\n", r.Message)
		return nil
	}
	if len(r.Rows) == 0 {
		_, err := fmt.Fprintln(w, "no records")
		return err
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, c := range r.Columns {
		fmt.Fprintf(tw, "%s\t", strings.ToUpper(c.Title))
	}
	fmt.Fprint(tw, "MARK\tLINK\n")
	for _, row := range r.Rows {
		for i, c := range r.Columns {
			fmt.Fprintf(tw, "%s\t", oneLine(human(c.Kind, row.Values[i])))
		}
		fmt.Fprintf(tw, "%s\t%s\n", row.Mark, row.Link)
	}
	return tw.Flush()
}

// oneLine keeps a value on its line (a title with a newline or a tab).
func oneLine(s string) string {
	return strings.NewReplacer("\n", " ", "\r", " ", "\t", " ").Replace(s)
}

// Plain is the text of a value as the CSV writes it.
func Plain(v any) string { return plain(v) }
