package config

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"
)

// cpuTime returns the CPU time the process has used so far. The benchmarks
// report it per operation next to the wall time, which on a shared machine
// also counts the time other processes held the cores.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// largeConfig generates a configuration with n key results, ten per
// objective, each bound to a source of its own (as when every key result
// has its own query endpoint). It returns the document and the number of
// keys it defines. Sources are where go-toml's duplicate-key check was
// quadratic: unlike the elements of an array of tables, they all stay
// defined until the end of the file.
func largeConfig(n int) ([]byte, int) {
	var b strings.Builder
	keys := 1
	b.WriteString("[global]\ntime_zone = \"Europe/Berlin\"\n\n")
	for i := range n {
		fmt.Fprintf(&b, "[sources.kr-%d]\ntype = \"fake\"\nurl = \"https://fake.example/%d\"\ninterval = \"10m\"\n\n", i, i)
		keys += 3
	}
	for i := range n {
		if i%10 == 0 {
			fmt.Fprintf(&b, "[[objectives]]\nid = \"objective-%d\"\ntitle = \"Objective %d\"\nperiod = \"2026-Q4\"\nowner = \"team-%d\"\n\n", i/10, i/10, i%7)
			keys += 4
		}
		fmt.Fprintf(&b, "  [[objectives.key_results]]\n  id = \"kr-%d\"\n  title = \"Key result %d\"\n  source = \"kr-%d\"\n  metric = \"throughput\"\n  baseline = %d\n  target = %d\n\n", i%10, i, i, i, i+10)
		keys += 6
	}
	return []byte(b.String()), keys
}

// BenchmarkParseKeyResults parses and validates configurations of 1,000,
// 10,000 and 20,000 key results; the time per key result stays the same.
func BenchmarkParseKeyResults(b *testing.B) {
	for _, n := range []int{1000, 10000, 20000} {
		data, keys := largeConfig(n)
		b.Run(fmt.Sprintf("%dk", n/1000), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			cpu := cpuTime(b)
			for b.Loop() {
				c, err := parse(data, "okrd.toml", envOf(nil))
				if err != nil {
					b.Fatal(err)
				}
				if len(c.Objectives) != n/10 || len(c.Sources) != n {
					b.Fatalf("%d objectives and %d sources, want %d and %d", len(c.Objectives), len(c.Sources), n/10, n)
				}
			}
			b.ReportMetric(float64((cpuTime(b)-cpu).Nanoseconds())/float64(b.N), "cpu-ns/op")
			b.ReportMetric(float64(keys), "keys")
		})
	}
}

// BenchmarkParseDocumentOneLargeTable reads documents whose keys are all in
// one table, the worst case of a check for keys defined twice.
func BenchmarkParseDocumentOneLargeTable(b *testing.B) {
	for _, n := range []int{10000, 80000, 160000} {
		var sb strings.Builder
		sb.WriteString("[table]\n")
		for i := range n {
			fmt.Fprintf(&sb, "key-%d = %d\n", i, i)
		}
		data := []byte(sb.String())
		b.Run(fmt.Sprintf("%dk-keys", n/1000), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			cpu := cpuTime(b)
			for b.Loop() {
				if _, _, err := parseDocument(data); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64((cpuTime(b)-cpu).Nanoseconds())/float64(b.N), "cpu-ns/op")
		})
	}
}
