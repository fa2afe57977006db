package jira

import (
	"context"
	"sync"
)

// pipeline says how the source reads paged answers, and lets tests watch
// it. The zero value prefetches.
type pipeline struct {
	// sequential fetches each page only once the one before is consumed,
	// as okrd did before it prefetched (benchmarks compare the two).
	sequential bool
	// ready, when set, is called each time a fetched page waits for its
	// consumer, and exited when a prefetching goroutine ends.
	ready, exited func()
}

// pageResult is one page, or the error that ended the reading.
type pageResult[T any] struct {
	page T
	last bool
	err  error
}

// pages hands the pages of one paged read to a consumer. Prefetching, a
// goroutine fetches the next page while the consumer works on the current
// one (decoding, normalising, storing it): wall time becomes the larger of
// Jira's time and okrd's instead of their sum. It stays at most one page
// ahead: having fetched a page, it waits until the consumer takes it
// before it asks for the next one, so that a page is in flight or waiting
// while one is consumed, never more. The fetch function keeps the paging
// state (tokens, offsets), which only the goroutine touches; the cursor
// stays the consumer's, committed with the records of the pages it
// consumed. A rate limit pauses the fetch (the client waits it out, and
// holds back the consumer's own requests too), and so the pipeline.
type pages[T any] struct {
	fetch func(context.Context) (T, bool, error)
	ctx   context.Context

	// Prefetching only.
	ch     chan pageResult[T]
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
}

// readPages starts reading the pages that fetch returns (a page and
// whether it is the last). The caller must call stop when done with it,
// whether it read every page or not.
func readPages[T any](ctx context.Context, pl pipeline, fetch func(context.Context) (T, bool, error)) *pages[T] {
	p := &pages[T]{fetch: fetch, ctx: ctx}
	if pl.sequential {
		return p
	}
	ctx, p.cancel = context.WithCancel(ctx)
	p.ctx = ctx
	p.ch = make(chan pageResult[T])
	p.done = make(chan struct{})
	go func() {
		defer close(p.done)
		if pl.exited != nil {
			defer pl.exited()
		}
		for {
			page, last, err := fetch(ctx)
			if pl.ready != nil {
				pl.ready()
			}
			select {
			case p.ch <- pageResult[T]{page, last, err}:
			case <-ctx.Done():
				return
			}
			if err != nil || last {
				return
			}
		}
	}()
	return p
}

// next returns the next page and whether it is the last. The consumer
// must not call it again after the last page or an error.
func (p *pages[T]) next() (T, bool, error) {
	if p.ch == nil {
		return p.fetch(p.ctx)
	}
	select {
	case r := <-p.ch:
		return r.page, r.last, r.err
	case <-p.ctx.Done():
		// A page fetched just before the end is still taken.
		select {
		case r := <-p.ch:
			return r.page, r.last, r.err
		default:
		}
		var zero T
		return zero, false, p.ctx.Err()
	}
}

// stop ends the prefetching goroutine, cancelling the request it may be
// making, and returns once it has ended.
func (p *pages[T]) stop() {
	if p.ch == nil {
		return
	}
	p.once.Do(func() {
		p.cancel()
		<-p.done
	})
}
