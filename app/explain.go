package app

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/okrd/okrd/collectors"
	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/metrics/explain"
)

// Explain lists the records behind a key result's value as the records
// stood at at (not after now): those its source selects for its metric,
// scope, filters, window and quantile, each with its contribution, the
// rows sorted by contribution. A running okrd answers from what its
// sources hold; in a process that does not poll (okrd explain) each
// source reads its records from the store. A manual key result lists its
// check-ins; an analytics source (sql, prometheus, http_json) has no
// records, which Message says.
func (a *App) Explain(ctx context.Context, objectiveID, keyResultID string, at time.Time) (*explain.Result, error) {
	cfg := a.cfg.Load()
	o := cfg.Objective(objectiveID)
	if o == nil {
		return nil, &explain.NotFoundError{Msg: fmt.Sprintf("objective %q does not exist", objectiveID)}
	}
	kr := o.KeyResult(keyResultID)
	if kr == nil {
		return nil, &explain.NotFoundError{Msg: fmt.Sprintf("key result %q does not exist in objective %q", keyResultID, objectiveID)}
	}
	now := a.opts.now()
	if at.IsZero() {
		at = now
	}
	if at.After(now) {
		return nil, &explain.ParamError{Param: "at", Msg: fmt.Sprintf("%s is after now (%s): the records of an instant to come do not exist yet",
			at.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))}
	}
	out := &explain.Result{Objective: o.ID, KeyResult: kr.ID, Source: kr.Source, At: at.UTC()}
	out.Metric, out.Unit = kr.Metric, kr.Unit
	if kr.Source == "" {
		out.Source, out.SourceType = "manual", "manual"
		return out, a.explainCheckins(ctx, out, o, kr, at)
	}
	sc := cfg.Sources[kr.Source]
	if sc == nil {
		return nil, fmt.Errorf("key result %q: source %q is not configured", kr.ID, kr.Source)
	}
	out.SourceType = sc.Type
	src, err := a.explainSource(sc)
	if err != nil {
		return nil, err
	}
	ex, ok := src.(collectors.Explainer)
	if !ok {
		out.Message = fmt.Sprintf("the value comes from a %s query, which answers with the number itself: okrd holds no records behind it to list", sc.Type)
		return out, nil
	}
	e, err := ex.Explain(ctx, collectors.Binding{Objective: o, KeyResult: kr}, at)
	if collectors.IsNoRecords(err) {
		out.Message = err.Error()
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	e.Sort()
	out.Explanation = e
	return out, nil
}

// explainSource is the running source of a configuration's source, or,
// when this process does not run it (okrd explain, a follower that does
// not hold it), one built on a store that refuses writes, which reads its
// records from the store.
func (a *App) explainSource(sc *config.Source) (collectors.Source, error) {
	a.runMu.Lock()
	r := a.runners[sc.Name]
	var src collectors.Source
	if r != nil {
		src = r.src
	}
	a.runMu.Unlock()
	if src != nil {
		return src, nil
	}
	return collectors.New(sc, collectors.Deps{
		Store: readOnlyStore{a.store}, Logger: a.logger, Metrics: collectors.NewMetrics(prometheus.NewRegistry()), Now: a.opts.now,
	})
}

// explainCheckins lists a manual key result's check-ins up to at, newest
// first: its value is the latest one's.
func (a *App) explainCheckins(ctx context.Context, out *explain.Result, o *config.Objective, kr *config.KeyResult, at time.Time) error {
	cs, err := a.store.Checkins(ctx, o.ID, kr.ID, 0)
	if err != nil {
		return fmt.Errorf("reading the check-ins: %w", err)
	}
	out.Rule = explain.Latest
	out.How = "the value of the latest check-in at or before the instant"
	out.Columns = []explain.Column{
		{Key: "at", Title: "at", Kind: explain.Time},
		{Key: "author", Title: "author", Kind: explain.Text},
		{Key: "note", Title: "note", Kind: explain.Text},
		{Key: "value", Title: "value", Kind: explain.Value},
	}
	for _, c := range cs {
		if c.At.After(at) {
			continue
		}
		out.Rows = append(out.Rows, explain.Row{Values: []any{c.At.UTC(), c.Author, c.Note, c.Value}, Contribution: c.Value, At: c.At})
	}
	out.Sort()
	out.Value, out.HasValue = out.Recompute()
	return nil
}

// OpenReader loads the configuration and opens the store for a command
// that only reads (okrd explain): no daemon lock, so that it runs next to
// a running okrd as okrd report does, and sources built on it get a
// store that refuses writes. Close its store when done.
func OpenReader(ctx context.Context, opts Options) (*App, error) {
	a := &App{opts: opts, logger: opts.logger(), runners: map[string]*runner{}}
	cfg, err := config.LoadAt(opts.ConfigFile, opts.now())
	if err != nil {
		return nil, err
	}
	a.cfg.Store(cfg)
	st, err := OpenStore(ctx, cfg.Storage, a.logger)
	if err != nil {
		return nil, err
	}
	a.store = readOnlyStore{st}
	return a, nil
}
