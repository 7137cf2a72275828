package recstoretest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/recstore/recstore"
)

// TestAdapter checks that a behaves as the recstore.Adapter contract says,
// for records of type typ it holds under ids (at least one), and returns
// the problems it found, joined, or nil. s reads a's payloads: it must have
// typ registered and the serializer a's backend speaks; TestAdapter pushes
// into it.
//
// It checks that FindRecord returns each record, that a record a does not
// hold is an error wrapping recstore.ErrNotFound, that a cancelled context
// ends a call within a second with an error, that concurrent calls work,
// that requests are not modified, and, for the capabilities a has, that
// FindAll returns every id and FindMany the ids it holds. Run it from a
// test:
//
//	if err := recstoretest.TestAdapter(ctx, a, store, "album", "1", "2"); err != nil {
//		t.Fatal(err)
//	}
func TestAdapter(ctx context.Context, a recstore.Adapter, s *recstore.Store, typ string, ids ...string) error {
	if len(ids) == 0 {
		return errors.New("recstoretest: TestAdapter needs at least one id")
	}
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	// pushed reports the keys of typ a payload pushes.
	pushed := func(payload []byte) ([]string, error) {
		keys, err := s.PushPayload(typ, payload)
		var got []string
		for _, k := range keys {
			if k.Type == typ {
				got = append(got, k.ID)
			}
		}
		return got, err
	}

	for _, id := range ids {
		req := &recstore.Request{Type: typ, ID: id}
		before := *req
		payload, err := a.FindRecord(ctx, req)
		if err != nil {
			fail("FindRecord %s %s: %v", typ, id, err)
			continue
		}
		if !reflect.DeepEqual(before, *req) {
			fail("FindRecord %s %s modified the request: %+v", typ, id, *req)
		}
		doc, err := s.SerializerFor(typ).Normalize(s, typ, payload)
		switch {
		case err != nil:
			fail("FindRecord %s %s: the payload does not normalize: %v", typ, id, err)
		case len(doc.Data) != 1 || doc.Data[0].Type != typ || doc.Data[0].ID != id:
			fail("FindRecord %s %s: the payload's data is not exactly that record (%d records)", typ, id, len(doc.Data))
		default:
			if _, err := pushed(payload); err != nil {
				fail("FindRecord %s %s: the payload does not push: %v", typ, id, err)
			}
		}
	}

	missing := "recstoretest-no-such-id"
	if _, err := a.FindRecord(ctx, &recstore.Request{Type: typ, ID: missing}); !errors.Is(err, recstore.ErrNotFound) {
		fail("FindRecord of a missing record: want an error wrapping ErrNotFound, got %v", err)
	}

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	done := make(chan error, 1)
	go func() {
		_, err := a.FindRecord(cctx, &recstore.Request{Type: typ, ID: ids[0]})
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			fail("FindRecord with a cancelled context: want an error, got none")
		}
	case <-time.After(time.Second):
		fail("FindRecord with a cancelled context did not return within a second")
	}

	var wg sync.WaitGroup
	var mu sync.Mutex
	for range 8 {
		wg.Go(func() {
			for _, id := range ids {
				if _, err := a.FindRecord(ctx, &recstore.Request{Type: typ, ID: id}); err != nil {
					mu.Lock()
					fail("concurrent FindRecord %s %s: %v", typ, id, err)
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()

	if af, ok := a.(recstore.AllFinder); ok {
		payload, err := af.FindAll(ctx, &recstore.Request{Type: typ})
		got, perr := pushed(payload)
		if err != nil || perr != nil {
			fail("FindAll %s: %v", typ, errors.Join(err, perr))
		} else {
			for _, id := range ids {
				if !slices.Contains(got, id) {
					fail("FindAll %s: %s is missing (got %v)", typ, id, got)
				}
			}
		}
	}
	if mf, ok := a.(recstore.ManyFinder); ok {
		want := append(slices.Clone(ids), missing)
		payload, err := mf.FindMany(ctx, &recstore.Request{Type: typ, IDs: want})
		got, perr := pushed(payload)
		switch {
		case err != nil || perr != nil:
			fail("FindMany %s: %v", typ, errors.Join(err, perr))
		case slices.Contains(got, missing):
			fail("FindMany %s: returned %s, which it does not hold", typ, missing)
		case slices.ContainsFunc(got, func(id string) bool { return !slices.Contains(want, id) }):
			fail("FindMany %s: returned records not asked for (got %v, asked %v)", typ, got, want)
		default:
			for _, id := range ids {
				if !slices.Contains(got, id) {
					fail("FindMany %s: %s is missing (got %v)", typ, id, got)
				}
			}
		}
	}
	return errors.Join(errs...)
}
