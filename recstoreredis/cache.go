package recstoreredis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/recstore/recstore"
	"github.com/redis/rueidis"
)

// errNoAnswer stands for the answer of a backend call that panicked.
var errNoAnswer = errors.New("recstoreredis: the backend call did not return")

// CacheOptions configure a Cache. The zero value, or nil, is ready to use.
type CacheOptions struct {
	// Channel prefixes the keys the Cache keeps in Redis; it must be the
	// Replicas' Options.Channel, whose messages drop cached copies.
	// Default "recstore".
	Channel string
	// TTL is how long a record stays in Redis after it was loaded.
	// Default 5 minutes.
	TTL time.Duration
	// LockTTL is how long a load holds the lock of its record, so that
	// the other Replicas' misses of it wait for its answer instead of
	// asking the backend too. Default 2s.
	LockTTL time.Duration
	// LockWait is how long a miss waits for another Replica's load of
	// the same record before it asks the backend itself. Default LockTTL.
	LockWait time.Duration
	// Timeout bounds each Redis call. Default 500ms.
	Timeout time.Duration
	// RetryAfter is how long the Cache goes straight to the backend after
	// a Redis fault before it tries Redis again. Default 1s.
	RetryAfter time.Duration
	// Types limits caching to these model types; nil means every type.
	Types []string
	// OnError is told of each Redis fault, as Options.OnError is; by
	// default the fault is logged at Warn level with Logger.
	OnError func(error)
	// Logger logs faults when OnError is nil. Default slog.Default().
	Logger *slog.Logger
}

// A Cache is an Adapter that puts a cache shared by every Replica, in
// Redis, in front of another Adapter (the backend). A Find that misses the
// Store looks in Redis first; on a miss there it takes a short lock in
// Redis and loads from the backend, and what the backend answers is kept
// in Redis (as a JSON:API document {"data": resource}, under
// {channel}:r:{type}:{id}, field doc) for CacheOptions.TTL. A miss that
// finds another load of the record under way, in any Replica, waits for
// its answer (up to LockWait) instead of asking the backend again; within
// one Store, concurrent Finds of a record already make one call.
//
// Only FindRecord is cached, and only without includes. Every other call
// (FindMany, FindAll, queries, links, creates) goes to the wrapped
// Adapter, which the Store finds through Unwrap (see
// recstore.AdapterWrapper); updates and deletions go to it too, and drop
// the record's copy in Redis before the Store hears their answer.
// Cached copies are dropped by the Replicas' messages (see Replicate): a
// Cache is meant to be used with one, and without one a record saved
// stays cached, as it was, until TTL.
//
// Redis is never needed to answer: on a fault the Cache asks the backend,
// reports the fault, and stays away from Redis for RetryAfter.
//
// The backend must answer FindRecord with a JSON:API document (the
// default serializer's format) for its answer to be cached; other answers
// are passed on and not kept.
//
// A Cache is safe for concurrent use.
type Cache struct {
	next    recstore.Adapter
	c       rueidis.Client
	opts    CacheOptions
	keys    keys
	types   map[string]bool
	ttl     string // milliseconds
	lockTTL string

	replica   atomic.Pointer[Replica]
	downUntil atomic.Int64 // UnixNano before which Redis is not asked
	errMu     sync.Mutex
	stats     cacheCounters
}

type cacheCounters struct {
	hits, misses, waits, waitTimeouts, bypassed, fills, refused, errors atomic.Uint64
}

// CacheStats are a Cache's counters since NewCache.
type CacheStats struct {
	// Hits counts loads answered from Redis: backend calls saved.
	Hits uint64
	// Misses counts loads the Cache sent to the backend holding the lock.
	Misses uint64
	// Waits counts misses that found another load of the record under
	// way and waited for it; WaitTimeouts, those that gave up waiting
	// (LockWait) and asked the backend.
	Waits, WaitTimeouts uint64
	// Bypassed counts loads sent straight to the backend: with includes,
	// of a type not cached, or while Redis was failing.
	Bypassed uint64
	// Fills counts answers stored in Redis; Refused, answers not stored
	// because a message made them stale while they loaded, or because
	// they were not a JSON:API document of one resource.
	Fills, Refused uint64
	// Errors counts Redis faults.
	Errors uint64
}

// NewCache returns a Cache in front of next, keeping records in Redis
// through c.
func NewCache(c rueidis.Client, next recstore.Adapter, opts *CacheOptions) (*Cache, error) {
	if c == nil || next == nil {
		return nil, ErrNil
	}
	ca := &Cache{next: next, c: c}
	if opts != nil {
		ca.opts = *opts
	}
	o := &ca.opts
	if o.Channel == "" {
		o.Channel = DefaultChannel
	}
	if o.TTL <= 0 {
		o.TTL = 5 * time.Minute
	}
	if o.LockTTL <= 0 {
		o.LockTTL = 2 * time.Second
	}
	if o.LockWait <= 0 {
		o.LockWait = o.LockTTL
	}
	if o.Timeout <= 0 {
		o.Timeout = 500 * time.Millisecond
	}
	if o.RetryAfter <= 0 {
		o.RetryAfter = time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Types != nil {
		ca.types = map[string]bool{}
		for _, t := range o.Types {
			ca.types[t] = true
		}
	}
	ca.keys = keys{o.Channel}
	ca.ttl = strconv.FormatInt(max(1, o.TTL.Milliseconds()), 10)
	ca.lockTTL = strconv.FormatInt(max(1, o.LockTTL.Milliseconds()), 10)
	return ca, nil
}

// UpdateRecord saves through the wrapped Adapter, then drops the record's
// copy in Redis (and any load's lock) before the Store hears the answer:
// a reload right after the save, in this Store or another, cannot read
// the copy from before it. The Replica's message drops it too, but only
// some time later. If the wrapped Adapter cannot update, it fails with an
// error wrapping recstore.ErrNotSupported.
func (c *Cache) UpdateRecord(ctx context.Context, req *recstore.Request) ([]byte, error) {
	u, ok := find[recstore.Updater](c.next)
	if !ok {
		return nil, fmt.Errorf("recstoreredis: the Adapter behind the Cache cannot update: %w", recstore.ErrNotSupported)
	}
	b, err := u.UpdateRecord(ctx, req)
	if err == nil {
		c.drop(ctx, req.Type, req.ID)
	}
	return b, err
}

// DeleteRecord deletes through the wrapped Adapter, then drops the
// record's copy in Redis, as UpdateRecord does.
func (c *Cache) DeleteRecord(ctx context.Context, req *recstore.Request) error {
	d, ok := find[recstore.Deleter](c.next)
	if !ok {
		return fmt.Errorf("recstoreredis: the Adapter behind the Cache cannot delete: %w", recstore.ErrNotSupported)
	}
	err := d.DeleteRecord(ctx, req)
	if err == nil {
		c.drop(ctx, req.Type, req.ID)
	}
	return err
}

// drop removes the copy of a record and the lock of a load under way, so
// that the load cannot store what it read before the change.
func (c *Cache) drop(ctx context.Context, typ, id string) {
	if c.types != nil && !c.types[typ] {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.opts.Timeout)
	defer cancel()
	if err := c.c.Do(ctx, c.c.B().Unlink().Key(c.keys.record(typ, id), c.keys.lock(typ, id)).Build()).Error(); err != nil {
		c.fault(fmt.Errorf("%w: dropping %s %q after a save (the Replica's message drops it later): %w", ErrRedis, typ, id, err))
	}
}

// find looks for the capability X on ad and the Adapters it wraps, as
// the Store does (see recstore.AdapterWrapper).
func find[X any](ad recstore.Adapter) (X, bool) {
	for range 16 {
		if ad == nil {
			break
		}
		if x, ok := ad.(X); ok {
			return x, true
		}
		w, ok := ad.(recstore.AdapterWrapper)
		if !ok {
			break
		}
		ad = w.Unwrap()
	}
	var zero X
	return zero, false
}

// Unwrap returns the Adapter the Cache is in front of.
func (c *Cache) Unwrap() recstore.Adapter { return c.next }

// Stats returns the Cache's counters.
func (c *Cache) Stats() CacheStats {
	s := &c.stats
	return CacheStats{
		Hits: s.hits.Load(), Misses: s.misses.Load(), Waits: s.waits.Load(), WaitTimeouts: s.waitTimeouts.Load(),
		Bypassed: s.bypassed.Load(), Fills: s.fills.Load(), Refused: s.refused.Load(), Errors: s.errors.Load(),
	}
}

// FindRecord answers from Redis when it can, and otherwise loads from the
// backend and keeps the answer in Redis.
func (c *Cache) FindRecord(ctx context.Context, req *recstore.Request) ([]byte, error) {
	if len(req.Include) > 0 || (c.types != nil && !c.types[req.Type]) || time.Now().UnixNano() < c.downUntil.Load() {
		c.stats.bypassed.Add(1)
		return c.next.FindRecord(ctx, req)
	}
	k := recstore.Key{Type: req.Type, ID: req.ID}
	rep := c.replica.Load()
	var epoch uint64
	if rep != nil {
		epoch = rep.epoch.Load()
	}
	token := newID()
	deadline := time.Now().Add(c.opts.LockWait)
	delay := time.Millisecond
	waited := false
	for {
		kind, doc, ver, err := c.lookup(ctx, k, token)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			c.fault(fmt.Errorf("%w: reading %s %q: %w", ErrRedis, k.Type, k.ID, err))
			c.stats.bypassed.Add(1)
			return c.next.FindRecord(ctx, req)
		}
		switch kind {
		case "hit":
			c.stats.hits.Add(1)
			if rep != nil {
				rep.observe(k, ver, epoch)
			}
			return doc, nil
		case "lock":
			c.stats.misses.Add(1)
			answered := false
			defer func() {
				if !answered { // the backend panicked: let the others go on now
					c.fill(ctx, k, token, nil, errNoAnswer, ver)
				}
			}()
			b, err := c.next.FindRecord(ctx, req)
			answered = true
			c.fill(ctx, k, token, b, err, ver)
			if err == nil && rep != nil {
				rep.observe(k, ver, epoch) // b is at least as new as ver
			}
			return b, err
		}
		// "wait": another load of the record is under way.
		if !waited {
			waited = true
			c.stats.waits.Add(1)
		}
		if time.Now().After(deadline) {
			c.stats.waitTimeouts.Add(1)
			return c.next.FindRecord(ctx, req)
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
		delay = min(2*delay, 20*time.Millisecond)
	}
}

// lookup runs lookupScript for k.
func (c *Cache) lookup(ctx context.Context, k recstore.Key, token string) (kind string, doc []byte, ver uint64, err error) {
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	res, err := lookupScript.Exec(ctx, c.c,
		[]string{c.keys.record(k.Type, k.ID), c.keys.lock(k.Type, k.ID), c.keys.ver(), c.keys.typeMark(k.Type)},
		[]string{token, c.lockTTL}).ToArray()
	if err != nil {
		return "", nil, 0, err
	}
	if len(res) < 2 {
		return "", nil, 0, fmt.Errorf("lookup script answered %d values", len(res))
	}
	if kind, err = res[0].ToString(); err != nil {
		return "", nil, 0, err
	}
	verAt := 1
	if kind == "hit" {
		if len(res) < 3 {
			return "", nil, 0, fmt.Errorf("lookup script answered a hit without a version")
		}
		s, err := res[1].ToString()
		if err != nil {
			return "", nil, 0, err
		}
		doc = []byte(s)
		verAt = 2
	}
	vs, err := res[verAt].ToString()
	if err != nil {
		return "", nil, 0, err
	}
	if ver, err = strconv.ParseUint(vs, 10, 64); err != nil {
		return "", nil, 0, fmt.Errorf("lookup script answered version %q", vs)
	}
	return kind, doc, ver, nil
}

// fill stores the backend's answer b (if it is one resource) and
// releases the lock; a failed load only releases it, so that the waiting
// misses go on at once.
func (c *Cache) fill(ctx context.Context, k recstore.Key, token string, b []byte, loadErr error, ver uint64) {
	// The lock must go even if the Find was canceled meanwhile.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.opts.Timeout)
	defer cancel()
	var doc []byte
	if loadErr == nil {
		doc = resourceDocument(b, k.ID)
	}
	var err error
	if doc == nil {
		if loadErr == nil {
			c.stats.refused.Add(1)
		}
		err = releaseScript.Exec(ctx, c.c, []string{c.keys.lock(k.Type, k.ID)}, []string{token}).Error()
	} else {
		var stored int64
		stored, err = fillScript.Exec(ctx, c.c,
			[]string{c.keys.record(k.Type, k.ID), c.keys.lock(k.Type, k.ID), c.keys.typeMark(k.Type)},
			[]string{token, string(doc), strconv.FormatUint(ver, 10), c.ttl}).AsInt64()
		if err == nil {
			if stored == 1 {
				c.stats.fills.Add(1)
			} else {
				c.stats.refused.Add(1)
			}
		}
	}
	if err != nil {
		c.fault(fmt.Errorf("%w: storing %s %q: %w", ErrRedis, k.Type, k.ID, err))
	}
}

// resourceDocument returns {"data": resource} for a JSON:API document
// whose primary data is the one resource id, or nil: included records
// and links are left out, since they change without this record's
// messages.
func resourceDocument(b []byte, id string) []byte {
	var doc struct {
		Data json.RawMessage `json:"data"`
	}
	if json.Unmarshal(b, &doc) != nil || len(doc.Data) == 0 || doc.Data[0] != '{' {
		return nil
	}
	var res struct {
		Type string `json:"type"`
		ID   string `json:"id"`
	}
	if json.Unmarshal(doc.Data, &res) != nil || res.ID != id || res.Type == "" {
		return nil
	}
	out := make([]byte, 0, len(doc.Data)+10)
	out = append(out, `{"data":`...)
	out = append(out, doc.Data...)
	return append(out, '}')
}

// fault reports a Redis fault and keeps the Cache away from Redis for
// RetryAfter.
func (c *Cache) fault(err error) {
	c.stats.errors.Add(1)
	c.downUntil.Store(time.Now().Add(c.opts.RetryAfter).UnixNano())
	c.errMu.Lock()
	defer c.errMu.Unlock()
	if c.opts.OnError == nil {
		c.opts.Logger.Warn("recstoreredis: cache fault; using the backend", "channel", c.opts.Channel, "err", err)
		return
	}
	defer func() { _ = recover() }()
	c.opts.OnError(err)
}
