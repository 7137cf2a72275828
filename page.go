package recstore

import (
	"context"
	"fmt"
	"iter"
	"net/url"
	"slices"
	"strings"
)

// A pager is what a QueryResult needs to load the page after it. It is
// never changed once made, so results may be shared between goroutines.
type pager[T any] struct {
	s     *Store
	t     *table
	query url.Values      // the query of the first page, the Store's own copy
	conv  func([]Key) []T // a page's primary keys as its Records
	base  *url.URL        // the page's own URL, which its links resolve against; nil if unknown; never changed
	trail *linkTrail      // the pages walked so far, by resolved URL
}

// A linkTrail lists the pages walked to reach a result, each by what
// pageLink makes of its links, newest first. Each page adds to it without
// changing what came before, so two walks from one result do not see
// each other's pages.
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

// unknownPage stands for the URL of a first page that has no self link:
// only the Adapter knows where Query sent its request. Links relative to
// that page resolve against it, so that each is still told from links
// relative to another page: "?page=2" from it can never be taken for
// "/?page=2" or "/albums?page=2", which may name other pages. Its scheme,
// host and path are none a backend sends, and it is never sent anywhere.
func unknownPage() *url.URL {
	return &url.URL{Scheme: "recstore-unknown", Host: "first-page.invalid", Path: "/\x00/\x00/\x00/\x00"}
}

// pageLink resolves link, as a page whose URL is base sent it, to the
// URL it names (RFC 3986, as url.URL.ResolveReference does), and returns
// that URL and the string the walk knows the page by: the URL without its
// fragment (a server never sees it), with its host in lower case and the
// query's parameters in one order and escaping ("?b=2&a=%31" is "?a=1&b=2";
// one parameter's values keep their order).
// So one page spelt two ways ("?page=1" and "/albums?page=1" from
// /albums?page=2) is known as one. A link that does not parse, or a
// relative one when base is nil, is known by its text as sent, and its
// URL is nil.
func pageLink(base *url.URL, link string) (string, *url.URL) {
	ref, err := url.Parse(link)
	if err != nil || base == nil && !ref.IsAbs() {
		// Never equal to a URL's String, which escapes control characters.
		return "\x00" + link, nil
	}
	if base != nil {
		ref = base.ResolveReference(ref)
	}
	id := *ref
	id.Fragment, id.RawFragment = "", ""
	id.Host = strings.ToLower(id.Host)
	if q, err := url.ParseQuery(id.RawQuery); err == nil {
		id.RawQuery = q.Encode()
	}
	id.ForceQuery = false
	return id.String(), ref
}

// newPager makes the pager of a first page whose links are links. The
// page's own URL is unknown unless it has a self link: Query's request
// went out through the Adapter.
func newPager[T any](s *Store, t *table, query url.Values, conv func([]Key) []T, links map[string]any) *pager[T] {
	p := &pager[T]{s: s, t: t, query: cloneValues(query), conv: conv, base: unknownPage()}
	if self := Href(links, "self"); self != "" {
		id, u := pageLink(p.base, self)
		p.trail = p.trail.with(id)
		if u != nil {
			p.base = u
		}
	}
	return p
}

// after makes the pager of the page that link (which pageLink made id
// and u of) loaded after p's, whose links are links. The page is known
// by that link and by its self link, and its own links resolve against
// its self link if it has one, which is the backend's word for where it
// is, else against the link that loaded it.
func (p *pager[T]) after(id string, u *url.URL, links map[string]any) *pager[T] {
	q := &pager[T]{s: p.s, t: p.t, query: p.query, conv: p.conv, base: u, trail: p.trail.with(id)}
	if self := Href(links, "self"); self != "" {
		sid, su := pageLink(u, self)
		q.trail = q.trail.with(sid)
		if su != nil {
			q.base = su
		}
	}
	return q
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

// HasNext reports whether r has a next link (r.Links["next"], a string or
// {"href": ...}): whether [QueryResult.Next] would ask for a page rather
// than return nil, nil. A nil r has none.
func (r *QueryResult[T]) HasNext() bool {
	return r != nil && Href(r.Links, "next") != ""
}

// Next loads the page r's next link names (r.Links["next"], a string or
// {"href": ...}) and returns it, with its own Records, Meta and Links;
// its records are pushed as Query pushes them. When r has no next link
// (or r is nil), there is no more to load and Next returns nil, nil:
//
//	page, err := albums.Query(ctx, query)
//	for ; page != nil && err == nil; page, err = page.Next(ctx) {
//		for _, a := range page.Records { … }
//	}
//	if err != nil {
//		return err
//	}
//
// [QueryResult.Pages] is that loop as an iterator.
//
// The page is loaded through the type's Adapter, which must be a
// LinkFinder (or Next fails with ErrNotSupported), with a Request
// holding the type, the first page's query and the link as sent;
// HTTPAdapter resolves it as Ember Data does.
//
// A next link that names a page walked to reach r is a *PageLoopError
// (ErrPageLoop), and nothing is asked. Links are compared as URLs: each
// resolved (RFC 3986) against the URL of the page that sent it, which is
// its self link if it has one, else the link that loaded it, so that
// "?page=1" and "/albums?page=1" from /albums?page=2 are one page (see
// [PageLoopError] for the rest of what makes two links one). Each page
// is known by the link that loaded it and by its self link. The first
// page, which Query asked for through the Adapter, is known only by its
// self link: without one, a link back to it cannot be recognised, so it
// is loaded again, and the walk stops at the first next link that names
// a page walked since, possibly after one more pass over the pages. A
// backend that makes up new links for ever is not caught.
//
// Adapter failures are *AdapterError{Op: "FindLink"}. A QueryResult the
// Store did not return has no Store to ask, and fails with
// ErrNotSupported. Next may be called from several goroutines, and more
// than once: each call loads the page again.
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
	id, u := pageLink(p.base, next)
	if p.trail.has(id) {
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
	res.pages = p.after(id, u, res.Links)
	return res, nil
}

// Pages walks from r: it yields r, then each next page from
// [QueryResult.Next] once its records are pushed. The walk stops when a
// page has no next link, when the loop body breaks (nothing more is asked
// of the backend), or at the first error, which is yielded once with a nil
// page: the Adapter's, ctx's when ctx ends (bare between pages, or in an
// *AdapterError when it cuts a call off), or a *PageLoopError. A nil r
// yields nothing. Each range over the sequence walks afresh from r, loading
// every page after r again; r itself is not reloaded.
//
//	first, err := albums.Query(ctx, query)
//	if err != nil {
//		return err
//	}
//	fmt.Println(first.Meta["total"], "albums")
//	for page, err := range first.Pages(ctx) {
//		if err != nil {
//			return err
//		}
//		for _, a := range page.Records { … }
//	}
func (r *QueryResult[T]) Pages(ctx context.Context) iter.Seq2[*QueryResult[T], error] {
	return func(yield func(*QueryResult[T], error) bool) {
		for page := r; page != nil; {
			if !yield(page, nil) {
				return
			}
			var err error
			if page, err = page.Next(ctx); err != nil {
				yield(nil, err)
				return
			}
		}
	}
}

// QueryPages walks every page of a query: the first from [Model.Query],
// then those after it as [QueryResult.Pages] walks them, with the same
// rules; an error of Query's is yielded once with a nil page, as the
// walk's are. Each range over the sequence runs the query afresh.
//
//	for page, err := range albums.QueryPages(ctx, url.Values{"page[size]": {"100"}}) {
//		if err != nil {
//			return err
//		}
//		for _, a := range page.Records { … }
//	}
func (m *Model[T]) QueryPages(ctx context.Context, query url.Values) iter.Seq2[*QueryResult[T], error] {
	query = cloneValues(query)
	return queryPages(ctx, func(ctx context.Context) (*QueryResult[T], error) { return m.Query(ctx, query) })
}

// QueryPages is [Model.QueryPages] for a type named at run time: each
// page's Records are the keys of the records it holds.
func (s *Store) QueryPages(ctx context.Context, typ string, query url.Values) iter.Seq2[*QueryResult[Key], error] {
	query = cloneValues(query)
	return queryPages(ctx, func(ctx context.Context) (*QueryResult[Key], error) { return s.Query(ctx, typ, query) })
}

// queryPages yields the pages Pages walks from the first page query
// returns, or query's error.
func queryPages[T any](ctx context.Context, query func(context.Context) (*QueryResult[T], error)) iter.Seq2[*QueryResult[T], error] {
	return func(yield func(*QueryResult[T], error) bool) {
		first, err := query(ctx)
		if err != nil {
			yield(nil, err)
			return
		}
		for page, err := range first.Pages(ctx) {
			if !yield(page, err) {
				return
			}
		}
	}
}

// followPage loads a collection's pagination link through t's
// LinkFinder and pushes the answer as Query does, calling read under
// the push's lock.
func (s *Store) followPage(ctx context.Context, t *table, query url.Values, link string, read func([]Key, *Document)) error {
	ad, fail, err := s.foregroundAdapter(ctx, t, "FindLink")
	if err != nil {
		return err
	}
	lf, ok := capability[LinkFinder](ad)
	if !ok {
		return fail(ErrNotSupported)
	}
	return s.foreground(ctx, func(ctx context.Context) error {
		req := s.beginLoad(&Request{Type: t.name, Query: query, Link: link, store: s})
		defer s.endLoad(req)
		var payload []byte
		err := s.calling(ctx, "FindLink", t.name, func() (err error) {
			payload, err = lf.FindLink(ctx, req)
			return err
		})
		if err = s.answered(ctx, err); err == nil {
			err = s.pushAnswer(ctx, false, t, req, payload, nil, read)
		}
		if err != nil {
			return fail(err)
		}
		return nil
	})
}
