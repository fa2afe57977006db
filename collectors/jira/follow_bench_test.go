package jira

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/okrd/okrd/sandbox/jirafake"
)

// The cost of a replica that follows a leader (docs/ha.md), over 20,000
// stored issues: reading every record again, which a follower that
// reloaded periodically would pay each time, against reading the records
// one poll of the leader changed.

// BenchmarkFollowReload20k is a follower's first Follow: every stored
// record read and decoded, the exported series computed.
func BenchmarkFollowReload20k(b *testing.B) {
	e := generatedEnv(b, jirafake.Cloud, 20000)
	e.quiet = true
	if err := e.src.Poll(context.Background()); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		b.StopTimer()
		f := e.newSource()
		b.StartTimer()
		if _, err := f.Follow(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFollowChanges20k is a later Follow after the leader's poll
// wrote 100 changed issues: only those are read.
func BenchmarkFollowChanges20k(b *testing.B) {
	e := generatedEnv(b, jirafake.Cloud, 20000)
	e.quiet = true
	if err := e.src.Poll(context.Background()); err != nil {
		b.Fatal(err)
	}
	f := e.newSource()
	if _, err := f.Follow(context.Background()); err != nil {
		b.Fatal(err)
	}
	round := 0
	changes := 0
	for b.Loop() {
		b.StopTimer()
		round++
		at := now.Add(time.Duration(round) * time.Minute)
		e.clk.Set(at.Add(time.Second))
		for i := range 100 {
			must(e.fake.Touch(fmt.Sprintf("PAY-%d", 1+(round*100+i)%20000), at))
		}
		if err := e.src.Poll(context.Background()); err != nil {
			b.Fatal(err)
		}
		before := f.followed
		b.StartTimer()
		if _, err := f.Follow(context.Background()); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		changes += int(f.followed - before)
		b.StartTimer()
	}
	b.ReportMetric(float64(changes)/float64(round), "changes/op")
}
