package httpjson

import (
	"fmt"
	"strings"
	"testing"

	"github.com/theory/jsonpath"
)

// A PostHog HogQL answer as the API sends it (about 1 KB).
const posthogAnswer = `{"cache_key": "cache_6c9a1f", "clickhouse": "SELECT count() FROM events WHERE ...", "columns": ["count()"], "error": null, "hasMore": false, "hogql": "select count() from events where event = 'user signed up' and timestamp > now() - interval 7 day", "is_cached": false, "last_refresh": "2026-11-15T12:00:00.123456Z", "limit": 100, "modifiers": {"personsOnEventsMode": "person_id_override_properties_joined"}, "offset": 0, "query_status": null, "results": [[1834]], "timezone": "UTC", "timings": [{"k": "./query", "t": 0.084}], "types": [["count()", "UInt64"]]}`

// amplitudeAnswer is an event segmentation answer with one series of n
// daily values grouped by n segments (a large breakdown).
func amplitudeAnswer(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"data": {"series": [`)
	for s := 0; s < n; s++ {
		if s > 0 {
			b.WriteString(",")
		}
		b.WriteString("[")
		for d := 0; d < 28; d++ {
			if d > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, "%d", 100+s+d)
		}
		b.WriteString("]")
	}
	b.WriteString(`], "seriesCollapsed": [[{"setId": "", "value": 2816}]], "xValues": ["2026-10-18"]}, "wasCached": false}`)
	return []byte(b.String())
}

func benchmarkExtract(b *testing.B, raw []byte, path string, want float64) {
	p := jsonpath.MustParse(path)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		doc, err := decode(raw)
		if err != nil {
			b.Fatal(err)
		}
		v, err := extract(path, p.Select(doc))
		if err != nil || v != want {
			b.Fatalf("got %v, %v", v, err)
		}
	}
}

// Reading the number out of an answer is the CPU work of a request; the
// target is that it never matters next to the request itself (tens of
// milliseconds): under 1 ms for a typical answer, under 50 ms for a 1 MB
// one.
func BenchmarkExtractPostHogAnswer(b *testing.B) {
	benchmarkExtract(b, []byte(posthogAnswer), "$.results[0][0]", 1834)
}

func BenchmarkExtract1MBAmplitudeAnswer(b *testing.B) {
	raw := amplitudeAnswer(8000) // 8,000 segments x 28 days, about 1 MB
	benchmarkExtract(b, raw, "$.data.seriesCollapsed[0][0].value", 2816)
}
