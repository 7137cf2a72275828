package recstore

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
)

// This file asks the backend for collections: FindAll, Query and
// QueryRecord, on the caller's goroutine or in the background.

// FindAll returns every record of type typ the Store holds after asking
// the type's AllFinder when opts or its ReloadPolicy say so: by default
// only when none is cached, with a background refresh otherwise. The
// answer is pushed as an upsert: records the backend left out are not
// removed. The keys are in the order the records were first loaded. Use
// [Model.FindAll] for typed records.
//
// FindAll makes one AllFinder call and does not follow pagination links:
// from a backend that pages its collections, it pushes the first page
// only, and nothing says so (as in Ember Data). To load every page, use
// [Store.QueryPages] with the backend's page parameters.
func (s *Store) FindAll(ctx context.Context, typ string, opts *FindOptions) ([]Key, error) {
	t := s.lookupType(typ)
	if t == nil {
		return nil, fmt.Errorf("%w %q", ErrUnknownType, typ)
	}
	var keys []Key
	err := s.findAll(ctx, t, opts, func() { keys = s.Keys(typ) })
	if err != nil {
		return nil, err
	}
	return keys, nil
}

// FindAll returns the model's records as [Store.FindAll] finds them: of
// a paginated collection, the first page only; see [Model.QueryPages].
func (m *Model[T]) FindAll(ctx context.Context, opts *FindOptions) ([]T, error) {
	var out []T
	err := m.s.findAll(ctx, m.t, opts, func() {
		for _, v := range m.All() {
			out = append(out, v)
		}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// findAll loads t's records as opts and the policy ask. read takes the
// caller's answer once it is settled: after a foreground load, and before
// a background one starts, so that the answer is what the Store held when
// the caller asked, not whatever the reload manages to push meanwhile.
func (s *Store) findAll(ctx context.Context, t *table, opts *FindOptions, read func()) error {
	var o FindOptions
	if opts != nil {
		o = *opts
		o.Include = slices.Clone(o.Include) // a background load outlives the call
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	ad := s.adapterFor(t)
	fail := func(err error) error { return &AdapterError{Op: "FindAll", Type: t.name, Err: err} }
	af, _ := capability[AllFinder](ad)
	var policy ReloadPolicy = DefaultReloadPolicy{}
	if ad != nil {
		policy = policyOf(ad)
	}
	cached := int(t.live.Load())
	reload := o.Reload == ReloadAlways || o.Reload == ReloadDefault && policy.ShouldReloadAll(t.name, cached)
	if af == nil {
		switch {
		case !reload || o.Reload != ReloadAlways && cached > 0:
			read() // what the Store holds is all there is
			return nil
		case ad == nil:
			return fail(ErrNoAdapter)
		}
		return fail(ErrNotSupported)
	}
	// owned says load runs on a goroutine of the Store's (a background
	// reload), where it must recover panics; in the foreground a panic
	// reaches the caller.
	load := func(ctx context.Context, owned bool) error {
		var payload []byte
		req := s.beginLoad(&Request{Type: t.name, Include: o.Include, store: s})
		defer s.endLoad(req)
		call := func() (err error) {
			return s.calling(ctx, "FindAll", t.name, func() (err error) {
				payload, err = af.FindAll(ctx, req)
				return err
			})
		}
		var err error
		if owned {
			err = recovering("FindAll", call)
		} else {
			err = call()
		}
		if err = s.answered(ctx, err); err == nil {
			err = s.pushAnswer(ctx, owned, t, req, payload, nil, nil)
		}
		if err != nil {
			return fail(err)
		}
		return nil
	}
	if reload {
		if err := s.foreground(ctx, func(ctx context.Context) error { return load(ctx, false) }); err != nil {
			return err
		}
		read()
		return nil
	}
	read()
	if o.BackgroundReload == ReloadAlways || o.BackgroundReload == ReloadDefault && policy.ShouldBackgroundReloadAll(t.name, cached) {
		s.background(ctx, Key{Type: t.name}, func(ctx context.Context) error { return load(ctx, true) })
	}
	return nil
}

// foreground runs load on the caller's goroutine under ctx, cancelled also
// by Close, and counted so that Close waits for it.
func (s *Store) foreground(ctx context.Context, load func(context.Context) error) error {
	s.flightMu.Lock()
	if s.life.Err() != nil {
		s.flightMu.Unlock()
		return ErrClosed
	}
	s.running++
	s.flightMu.Unlock()
	defer func() {
		s.flightMu.Lock()
		s.running--
		s.idle.Broadcast()
		s.flightMu.Unlock()
	}()
	cctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(s.life, cancel)
	defer func() { stop(); cancel() }()
	err := load(cctx)
	if err != nil && s.life.Err() != nil && errors.Is(err, context.Canceled) {
		return ErrClosed
	}
	return err
}

// background runs load on a goroutine the Store owns, within
// MaxBackgroundReloads, under a context that Close cancels. load must
// recover panics in the user code it calls.
func (s *Store) background(ctx context.Context, k Key, load func(context.Context) error) {
	s.flightMu.Lock()
	defer s.flightMu.Unlock()
	if s.life.Err() != nil {
		return
	}
	select {
	case s.bgSlots <- struct{}{}:
	default:
		s.enqueue(k, func() { s.background(ctx, k, load) })
		return
	}
	s.bgRunning++
	s.running++
	bctx, cancel := s.callContext(ctx, true)
	go func() {
		err := load(bctx)
		cancel()
		<-s.bgSlots
		if err != nil {
			s.reportBackground(err)
		}
		s.dequeue()
		s.flightMu.Lock()
		s.bgRunning--
		s.running--
		s.idle.Broadcast()
		s.flightMu.Unlock()
	}()
}

// A QueryResult is the answer to a Query: the records in the order the
// backend sent them, and the response's meta and links. It is not live:
// records pushed later do not join it. A paginated answer is one page:
// [QueryResult.Next] loads the next, and QueryPages walks them all.
type QueryResult[T any] struct {
	// Records are the primary records, as the Store held them once the
	// page was pushed.
	Records []T
	// Meta is the response's top-level meta object, or nil.
	Meta map[string]any
	// Links is the response's top-level links object, or nil: "next"
	// (read with [Href]) is what Next follows.
	Links map[string]any

	pages *pager[T] // loads the next page; nil if the Store did not make r
}

// Query asks the type's Querier for the records matching query, pushes
// the answer, and returns it: the primary records in the response's
// order, with its meta and links. It always asks the backend.
func (m *Model[T]) Query(ctx context.Context, query url.Values) (*QueryResult[T], error) {
	res := &QueryResult[T]{}
	err := m.s.query(ctx, m.t, "Query", query, func(data []Key, doc *Document) {
		res.Records = m.values(data)
		res.Meta, res.Links = doc.Meta, doc.Links
	})
	if err != nil {
		return nil, err
	}
	res.pages = newPager(m.s, m.t, query, m.values, res.Links)
	return res, nil
}

// QueryRecord asks the type's RecordQuerier for the one record matching
// query, pushes the answer and returns the record. A response whose data
// is null is an error wrapping ErrNoMatch, which matches ErrNotFound too:
// test for ErrNoMatch to tell it from the Adapter's 404. One whose data
// is an array, even of one record, is an error wrapping ErrBadResponse
// and pushes nothing, as Ember Data asserts; when a RESTSerializer
// normalized the answer (itself or through a serializer that wraps it and
// returns its Document), the first record of the array is the answer and
// the others are sideloads, as in Ember Data's RESTSerializer.
func (m *Model[T]) QueryRecord(ctx context.Context, query url.Values) (T, error) {
	var out []T
	err := m.s.query(ctx, m.t, "QueryRecord", query, func(data []Key, _ *Document) { out = m.values(data) })
	if err != nil {
		var zero T
		return zero, err
	}
	return out[0], nil
}

// Query is [Model.Query] for a type named at run time: it answers with
// the keys of the records the backend sent, in its order.
func (s *Store) Query(ctx context.Context, typ string, query url.Values) (*QueryResult[Key], error) {
	t := s.lookupType(typ)
	if t == nil {
		return nil, fmt.Errorf("%w %q", ErrUnknownType, typ)
	}
	res := &QueryResult[Key]{}
	err := s.query(ctx, t, "Query", query, func(data []Key, doc *Document) {
		res.Records = slices.Clone(data)
		res.Meta, res.Links = doc.Meta, doc.Links
	})
	if err != nil {
		return nil, err
	}
	res.pages = newPager(s, t, query, slices.Clone[[]Key], res.Links)
	return res, nil
}

// QueryRecord is [Model.QueryRecord] for a type named at run time.
func (s *Store) QueryRecord(ctx context.Context, typ string, query url.Values) (Key, error) {
	t := s.lookupType(typ)
	if t == nil {
		return Key{}, fmt.Errorf("%w %q", ErrUnknownType, typ)
	}
	var k Key
	err := s.query(ctx, t, "QueryRecord", query, func(data []Key, _ *Document) { k = data[0] })
	if err != nil {
		return Key{}, err
	}
	return k, nil
}

// foregroundAdapter makes the checks every call on the caller's goroutine
// makes before it asks a backend: ctx not done, the Store not closed, an
// Adapter for t. It returns the Adapter and fail, which wraps an error of
// the call op in an *AdapterError.
func (s *Store) foregroundAdapter(ctx context.Context, t *table, op string) (ad Adapter, fail func(error) error, err error) {
	fail = func(err error) error { return &AdapterError{Op: op, Type: t.name, Err: err} }
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	if s.life.Err() != nil {
		return nil, nil, ErrClosed
	}
	if ad = s.adapterFor(t); ad == nil {
		return nil, nil, fail(ErrNoAdapter)
	}
	return ad, fail, nil
}

// query runs a Query or QueryRecord call and pushes its answer, calling
// read under the push's lock.
func (s *Store) query(ctx context.Context, t *table, op string, query url.Values, read func([]Key, *Document)) error {
	ad, fail, err := s.foregroundAdapter(ctx, t, op)
	if err != nil {
		return err
	}
	var call func(context.Context, *Request) ([]byte, error)
	switch op {
	case "Query":
		if q, ok := capability[Querier](ad); ok {
			call = q.Query
		}
	default:
		if q, ok := capability[RecordQuerier](ad); ok {
			call = q.QueryRecord
		}
	}
	if call == nil {
		return fail(ErrNotSupported)
	}
	var check func(*Document) error
	if op == "QueryRecord" {
		check = func(doc *Document) error {
			if doc.rest && doc.Many && len(doc.Data) > 0 {
				pickPrimary(doc, doc.Data[0].Type, doc.Data[0].ID) // as Ember's RESTSerializer does
			}
			switch {
			case doc.Many && !doc.rest:
				return fmt.Errorf("%w: a QueryRecord answer's primary data must be one resource or null, not an array", ErrBadResponse)
			case len(doc.Data) == 0:
				return ErrNoMatch // a success that found nothing, not a 404
			case len(doc.Data) > 1:
				return fmt.Errorf("%w: the response holds %d records, not one", ErrWrongRecord, len(doc.Data))
			}
			return nil
		}
	}
	return s.foreground(ctx, func(ctx context.Context) error {
		req := s.beginLoad(&Request{Type: t.name, Query: query, store: s})
		defer s.endLoad(req)
		var payload []byte
		err := s.calling(ctx, op, t.name, func() (err error) {
			payload, err = call(ctx, req)
			return err
		})
		if err = s.answered(ctx, err); err == nil {
			err = s.pushAnswer(ctx, false, t, req, payload, check, read)
		}
		if err != nil {
			return fail(err)
		}
		return nil
	})
}
