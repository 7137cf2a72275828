package recstore

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/url"
	"slices"
)

// ErrPageLoop matches a walk through a collection's pages that stopped
// because a next link led back to a page already walked (see
// PageLoopError).
var ErrPageLoop = errors.New("recstore: pagination loops")

// A PageLoopError reports a next link that leads back to a page walked
// already: the link of an earlier page (its self link, or the next link
// that loaded it). Following it would walk the same pages for ever, so
// the walk stops before asking for it. It matches ErrPageLoop.
type PageLoopError struct {
	// Type is the collection's type.
	Type string
	// Link is the next link, as the backend sent it.
	Link string
}

// Error names the type and the link.
func (e *PageLoopError) Error() string {
	return fmt.Sprintf("recstore: %s pages: next link %q leads back to a page already walked", e.Type, shortText(e.Link, maxErrText))
}

// Is reports whether target is ErrPageLoop.
func (e *PageLoopError) Is(target error) bool { return target == ErrPageLoop }

// A pager is what a QueryResult needs to load the page after it. It is
// never changed once made, so results may be shared between goroutines.
type pager[T any] struct {
	s     *Store
	t     *table
	query url.Values      // the query of the first page, the Store's own copy
	conv  func([]Key) []T // a page's primary keys as its Records
	trail *linkTrail      // the links of the pages walked so far
}

// A linkTrail lists the links of the pages walked to reach a result,
// newest first. Each page adds to it without changing what came before,
// so two walks from one result do not see each other's pages.
type linkTrail struct {
	link string
	prev *linkTrail
}

func (l *linkTrail) has(link string) bool {
	for ; l != nil; l = l.prev {
		if l.link == link {
			return true
		}
	}
	return false
}

func (l *linkTrail) with(links ...string) *linkTrail {
	for _, s := range links {
		if s != "" && !l.has(s) {
			l = &linkTrail{s, l}
		}
	}
	return l
}

// newPager makes the pager of a first page whose links are links.
func newPager[T any](s *Store, t *table, query url.Values, conv func([]Key) []T, links map[string]any) *pager[T] {
	return &pager[T]{s: s, t: t, query: cloneValues(query), conv: conv, trail: (*linkTrail)(nil).with(Href(links, "self"))}
}

// cloneValues copies q deeply, so that the caller's later changes do not
// reach pages loaded after.
func cloneValues(q url.Values) url.Values {
	if q == nil {
		return nil
	}
	out := make(url.Values, len(q))
	for k, v := range q {
		out[k] = slices.Clone(v)
	}
	return out
}

// Next loads the page r's next link names (r.Links["next"], a string or
// {"href": ...}) and returns it, with its own Records, Meta and Links;
// its records are pushed as Query pushes them. When r has no next link
// (or r is nil), there is no more to load and Next returns nil, nil:
//
//	for page := first; page != nil; page, err = page.Next(ctx) { … }
//
// The page is loaded through the type's Adapter, which must be a
// LinkFinder (or Next fails with ErrNotSupported), with a Request
// holding the type, the first page's query and the link as sent;
// HTTPAdapter resolves it as Ember Data does. A next link that leads
// back to a page walked to reach r is a *PageLoopError (ErrPageLoop),
// and nothing is asked; a backend that makes up new links for ever is
// not caught. Adapter failures are *AdapterError{Op: "FindLink"}. A
// QueryResult the Store did not return has no Store to ask, and fails
// with ErrNotSupported. Next may be called from several goroutines, and
// more than once: each call loads the page again.
func (r *QueryResult[T]) Next(ctx context.Context) (*QueryResult[T], error) {
	if r == nil {
		return nil, nil
	}
	next := Href(r.Links, "next")
	if next == "" {
		return nil, nil
	}
	p := r.pages
	if p == nil {
		return nil, fmt.Errorf("recstore: next page: %w: this QueryResult was not made by a Store", ErrNotSupported)
	}
	if p.trail.has(next) {
		return nil, &PageLoopError{Type: p.t.name, Link: next}
	}
	res := &QueryResult[T]{}
	err := p.s.followPage(ctx, p.t, p.query, next, func(data []Key, doc *Document) {
		res.Records = p.conv(data)
		res.Meta, res.Links = doc.Meta, doc.Links
	})
	if err != nil {
		return nil, err
	}
	res.pages = &pager[T]{s: p.s, t: p.t, query: p.query, conv: p.conv, trail: p.trail.with(next, Href(res.Links, "self"))}
	return res, nil
}

// QueryPages walks every page of a query: the first from [Model.Query],
// each next one from [QueryResult.Next], yielding each page once its
// records are pushed. The walk stops when a page has no next link, when
// the loop body breaks (nothing more is asked of the backend), or at the
// first error, which is yielded once with a nil page: the Adapter's,
// ctx's when ctx ends (bare between pages, or in an *AdapterError when
// it cuts a call off), or a *PageLoopError. Each range over the sequence
// runs the query afresh.
//
//	for page, err := range albums.QueryPages(ctx, url.Values{"page[size]": {"100"}}) {
//		if err != nil {
//			return err
//		}
//		for _, a := range page.Records { … }
//	}
func (m *Model[T]) QueryPages(ctx context.Context, query url.Values) iter.Seq2[*QueryResult[T], error] {
	query = cloneValues(query)
	return walkPages(ctx, func(ctx context.Context) (*QueryResult[T], error) { return m.Query(ctx, query) })
}

// QueryPages is [Model.QueryPages] for a type named at run time: each
// page's Records are the keys of the records it holds.
func (s *Store) QueryPages(ctx context.Context, typ string, query url.Values) iter.Seq2[*QueryResult[Key], error] {
	query = cloneValues(query)
	return walkPages(ctx, func(ctx context.Context) (*QueryResult[Key], error) { return s.Query(ctx, typ, query) })
}

// walkPages yields first's page and each page after it, as QueryPages
// says.
func walkPages[T any](ctx context.Context, first func(context.Context) (*QueryResult[T], error)) iter.Seq2[*QueryResult[T], error] {
	return func(yield func(*QueryResult[T], error) bool) {
		page, err := first(ctx)
		for {
			if err != nil {
				yield(nil, err)
				return
			}
			if page == nil || !yield(page, nil) {
				return
			}
			page, err = page.Next(ctx)
		}
	}
}

// followPage loads a collection's pagination link through t's
// LinkFinder and pushes the answer as Query does, calling read under
// the push's lock.
func (s *Store) followPage(ctx context.Context, t *table, query url.Values, link string, read func([]Key, *Document)) error {
	fail := func(err error) error { return &AdapterError{Op: "FindLink", Type: t.name, Err: err} }
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.life.Err() != nil {
		return ErrClosed
	}
	ad := s.adapterFor(t)
	if ad == nil {
		return fail(ErrNoAdapter)
	}
	lf, ok := ad.(LinkFinder)
	if !ok {
		return fail(ErrNotSupported)
	}
	return s.foreground(ctx, func(ctx context.Context) error {
		payload, err := lf.FindLink(ctx, &Request{Type: t.name, Query: query, Link: link, store: s})
		if err = s.answered(ctx, err); err == nil {
			err = s.pushAnswer(ctx, false, t, payload, nil, read)
		}
		if err != nil {
			return fail(err)
		}
		return nil
	})
}
