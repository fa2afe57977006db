package sql

import (
	"context"
	stdsql "database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/okrd/okrd/collectors"
	"github.com/okrd/okrd/collectors/internal/livequery"
	"github.com/okrd/okrd/config"
)

// BenchmarkPoll100KeyResultsOnSQLite measures a poll of a sql source with
// 100 key results, each an indexed aggregate over a 100,000-row events
// table of a SQLite warehouse: the overhead okrd adds per query (the
// statement check, the read-only connection's authorizer, the shape
// checks) next to the query itself.
// Target: a poll of 100 such key results well under a second.
func BenchmarkPoll100KeyResultsOnSQLite(b *testing.B) {
	path := filepath.Join(b.TempDir(), "warehouse.db")
	db, err := stdsql.Open("sqlite", path)
	if err != nil {
		b.Fatal(err)
	}
	for _, stmt := range []string{
		`create table events (team integer, kind text, at integer)`,
		`with recursive n(i) as (select 0 union all select i + 1 from n where i < 99999)
		 insert into events select i % 100, case when i % 3 = 0 then 'signup' else 'view' end, 1790812800 + i * 60 from n`,
		`create index events_team on events (team, kind)`,
	} {
		if _, err := db.Exec(stmt); err != nil {
			b.Fatal(err)
		}
	}
	db.Close()

	spec := &Spec{}
	spec.Defaults()
	spec.Driver, spec.DSN = DriverSQLite, config.Secret(path)
	q, err := Open("warehouse", spec, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer q.Close()
	src := livequery.New(q, livequery.Options{Name: "warehouse", Concurrency: spec.MaxOpenConns})
	o := &config.Objective{ID: "grow"}
	var bs []collectors.Binding
	for i := 0; i < 100; i++ {
		bs = append(bs, collectors.Binding{Objective: o, KeyResult: &config.KeyResult{
			ID: fmt.Sprintf("kr%d", i), Query: fmt.Sprintf(`select count(*) from events where team = %d and kind = 'signup'`, i)}})
	}
	ctx := context.Background()
	for _, m := range src.Measure(ctx, bs, time.Now()) {
		// 1,000 rows per team, every third one a sign-up: 333 or 334.
		if m.Err != nil || m.Value < 333 || m.Value > 334 {
			b.Fatalf("got %+v", m)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := src.Poll(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/100, "ns/query")
}
