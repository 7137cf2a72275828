package recstoreredis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/recstore/recstore"
	"github.com/redis/rueidis"
)

// ErrNil reports a nil Store or client passed to Replicate or NewCache.
var ErrNil = errors.New("recstoreredis: nil argument")

// ErrConfig reports Options that cannot work together: a Cache on another
// channel than its Replica, or keeping types the Replica does not
// replicate (their copies would never be dropped).
var ErrConfig = errors.New("recstoreredis: options do not fit")

// ErrRedis wraps every fault of Redis this package reports (Options.OnError,
// CacheOptions.OnError): Redis down, a call timed out, a subscription lost.
var ErrRedis = errors.New("recstoreredis: redis")

// Options configure a Replica. The zero value, or nil, is ready to use.
type Options struct {
	// Channel is the pub/sub channel Replicas share and the prefix of
	// every key this package keeps in Redis; a Cache sharing data with
	// the Replicas must use the same one. Default "recstore".
	Channel string
	// Types limits replication to these model types, both ways; nil means
	// every type.
	Types []string
	// Unload makes the Replica unload a record another one changed,
	// instead of marking it stale (Store.Invalidate). A record with local
	// changes or a save under way is only marked stale either way, so no
	// edit is lost. A record deleted in the backend is unloaded either way.
	Unload bool
	// Cache is the Cache adapter of this Store, if it has one: a record
	// read from Redis tells the Replica which messages the Store's data
	// already reflects, so a late message does not make it stale again.
	Cache *Cache
	// QueueLimit caps the records waiting to be published while Redis
	// cannot be reached. Past it the Replica forgets them and publishes
	// their types instead, which makes every record of those types stale
	// in the other Replicas. Default 65,536.
	QueueLimit int
	// Timeout bounds each Redis call the Replica makes. Default 1s.
	Timeout time.Duration
	// OnError is told of each fault: Redis unreachable, a message not
	// published (it is kept and sent again), a message that could not be
	// read, a subscription lost. It is called from the Replica's
	// goroutines, one call at a time, and a panic in it is recovered. By
	// default the fault is logged at Warn level with Logger.
	OnError func(error)
	// Logger logs faults when OnError is nil, and reconnections. Default
	// slog.Default().
	Logger *slog.Logger
}

// DefaultChannel is the channel and key prefix used when Options.Channel
// and CacheOptions.Channel are empty.
const DefaultChannel = "recstore"

// A Replica keeps one Store in step with the other Stores that share a
// Redis channel: what changes a record here is published, and what the
// others publish marks the record stale here (or unloads it).
//
// Published: pushes and loads that change a record the Store held
// (recstore.CausePush), saves the backend confirmed (CauseSave, a
// confirmed deletion as deleted), and Unload (CauseUnload). Not
// published: local edits not yet saved, records loaded for the first
// time, evictions and restores, and a reload of a record another Replica
// made stale (the message that made it stale reached every Replica).
//
// Each message carries a version from a counter in Redis. A Replica
// ignores its own messages, and a message no newer than what it knows of
// a record: a message it applied, or the version of the
// copy its Cache read.
//
// If Redis is down, the Store keeps working; changes wait to be published
// (up to Options.QueueLimit records) and are sent when Redis is back. A
// Replica whose subscription was lost may have missed messages, so when
// it is back the Replica marks every record it replicates stale.
//
// A Replica's methods are safe for concurrent use.
type Replica struct {
	s      *recstore.Store
	c      rueidis.Client
	id     string
	opts   Options
	keys   keys
	types  map[string]bool // nil: every type
	sub    *recstore.Subscription
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	wake    chan struct{} // something to publish
	resync  chan struct{} // the subscription came back
	ready   chan struct{} // closed at the first subscription
	once    sync.Once
	closing sync.Once

	epoch      atomic.Uint64 // +1 at each resubscription
	subscribed atomic.Int64  // subscriptions confirmed
	connected  atomic.Bool

	mu        sync.Mutex
	seen      map[recstore.Key]uint64   // newest version known per record
	pending   map[recstore.Key]struct{} // made stale by a message: its reload is not news
	unloading map[recstore.Key]int      // unloads made for a message: not news
	sweepAt   int
	queue     outbox
	flushed   *sync.Cond // signalled when a publish attempt ends

	errMu sync.Mutex
	stats replicaCounters

	// applied, if set (tests), is called after a message is applied.
	applied func(m *message)
}

// outbox holds what waits to be published, once per record.
type outbox struct {
	changed, deleted []recstore.Key
	in               map[recstore.Key]bool // key -> deleted
	types            map[string]bool
	inflight         int // records in a message taken from the queue, being sent
}

// empty reports whether nothing waits and nothing is in flight.
func (o *outbox) empty() bool { return len(o.in) == 0 && len(o.types) == 0 && o.inflight == 0 }

type replicaCounters struct {
	published, publishedRecords, received, own, invalidated, late, resyncs, errors, bad atomic.Uint64
}

// ReplicaStats are a Replica's counters since Replicate.
type ReplicaStats struct {
	// Connected reports whether the subscription is up now.
	Connected bool
	// Published counts messages sent, PublishedRecords the records they
	// named.
	Published, PublishedRecords uint64
	// Received counts other Replicas' messages read; Own, this Replica's
	// own messages, which it ignores.
	Received, Own uint64
	// Invalidated counts records marked stale or unloaded for a message.
	Invalidated uint64
	// Late counts records a message named that the Store already knew at
	// that version or newer: the ordering guard left them alone.
	Late uint64
	// Resyncs counts the times the subscription came back and every
	// record was marked stale.
	Resyncs uint64
	// Errors counts faults reported; BadMessages, messages on the channel
	// that could not be read.
	Errors, BadMessages uint64
	// Queued is the number of records waiting to be published now,
	// those being sent included.
	Queued int
}

// Replicate connects s to the other Stores sharing opts.Channel through
// the Redis client c, and returns at once: the subscription is set up in
// the background (see Ready), and if Redis goes down the Replica keeps
// trying while the Store works on (rueidis.NewClient itself needs Redis
// to be reachable when it is called). c is not closed by the Replica;
// close the Replica first, then c. It fails with ErrNil for a nil Store
// or client, and ErrConfig for an Options.Cache whose copies its messages
// would not drop.
//
// A client made with rueidis.NewClient(rueidis.ClientOption{InitAddress:
// []string{addr}}) will do; the Replica uses it for its scripts and its
// subscription.
func Replicate(s *recstore.Store, c rueidis.Client, opts *Options) (*Replica, error) {
	if s == nil || c == nil {
		return nil, ErrNil
	}
	r := &Replica{
		s: s, c: c, id: newID(),
		wake: make(chan struct{}, 1), resync: make(chan struct{}, 1), ready: make(chan struct{}),
		seen: map[recstore.Key]uint64{}, pending: map[recstore.Key]struct{}{}, unloading: map[recstore.Key]int{},
		sweepAt: 4096,
	}
	if opts != nil {
		r.opts = *opts
	}
	if r.opts.Channel == "" {
		r.opts.Channel = DefaultChannel
	}
	if r.opts.QueueLimit <= 0 {
		r.opts.QueueLimit = 1 << 16
	}
	if r.opts.Timeout <= 0 {
		r.opts.Timeout = time.Second
	}
	if r.opts.Logger == nil {
		r.opts.Logger = slog.Default()
	}
	if r.opts.Types != nil {
		r.types = make(map[string]bool, len(r.opts.Types))
		for _, t := range r.opts.Types {
			r.types[t] = true
		}
	}
	if c := r.opts.Cache; c != nil {
		if c.opts.Channel != r.opts.Channel {
			return nil, fmt.Errorf("%w: the Cache's channel %q is not the Replica's %q: its copies would never be dropped", ErrConfig, c.opts.Channel, r.opts.Channel)
		}
		if r.types != nil {
			if c.types == nil {
				return nil, fmt.Errorf("%w: the Cache keeps every type, the Replica replicates only %v: copies of the others would never be dropped", ErrConfig, r.opts.Types)
			}
			for t := range c.types {
				if !r.types[t] {
					return nil, fmt.Errorf("%w: the Cache keeps %q, which the Replica does not replicate: its copies would never be dropped", ErrConfig, t)
				}
			}
		}
	}
	r.keys = keys{r.opts.Channel}
	r.queue.in = map[recstore.Key]bool{}
	r.flushed = sync.NewCond(&r.mu)
	r.ctx, r.cancel = context.WithCancel(context.Background())
	if r.opts.Cache != nil {
		r.opts.Cache.replica.Store(r)
	}
	// A large buffer: a subscriber that falls behind gets an overflow,
	// which costs every other Replica all of its records' freshness.
	r.sub = s.Subscribe(&recstore.SubscribeOptions{Buffer: 1 << 18}, r.changed)
	r.wg.Add(2)
	go r.receive()
	go r.work()
	return r, nil
}

func newID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// ID names the Replica in the messages it publishes (their "from").
func (r *Replica) ID() string { return r.id }

// Ready waits until the Replica's subscription is set up: from then on it
// hears the other Replicas. It fails with ctx's error if ctx ends first.
func (r *Replica) Ready(ctx context.Context) error {
	select {
	case <-r.ready:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Flush waits until every change made before it has been published, or
// ctx ends (it then returns ctx's error). It is for tests and orderly
// shutdowns: changes are published without it. While Redis is down it
// waits for Redis; after Close it fails with recstore.ErrClosed if
// anything was left unpublished.
func (r *Replica) Flush(ctx context.Context) error {
	if err := r.sub.Drain(ctx); err != nil {
		return err
	}
	select {
	case r.wake <- struct{}{}:
	default:
	}
	stop := context.AfterFunc(ctx, func() {
		r.mu.Lock()
		r.flushed.Broadcast()
		r.mu.Unlock()
	})
	defer stop()
	r.mu.Lock()
	defer r.mu.Unlock()
	for !r.queue.empty() {
		if err := ctx.Err(); err != nil {
			return err
		}
		if r.ctx.Err() != nil {
			return fmt.Errorf("recstoreredis: flush: %w (%d records were not published)", recstore.ErrClosed, len(r.queue.in))
		}
		r.flushed.Wait()
	}
	return ctx.Err()
}

// Stats returns the Replica's counters.
func (r *Replica) Stats() ReplicaStats {
	r.mu.Lock()
	queued := len(r.queue.in) + r.queue.inflight
	r.mu.Unlock()
	c := &r.stats
	return ReplicaStats{
		Connected: r.connected.Load(),
		Published: c.published.Load(), PublishedRecords: c.publishedRecords.Load(),
		Received: c.received.Load(), Own: c.own.Load(),
		Invalidated: c.invalidated.Load(), Late: c.late.Load(), Resyncs: c.resyncs.Load(),
		Errors: c.errors.Load(), BadMessages: c.bad.Load(), Queued: queued,
	}
}

// Close stops replicating: the subscription ends, what waits to be
// published gets one last try (within Options.Timeout), and the Replica's
// goroutines end. The Store and the client stay open. It returns an error
// wrapping ErrRedis if changes could not be published (the other Stores
// see them when their copies expire). Close may be called more than once;
// only the first call reports.
func (r *Replica) Close() error {
	var err error
	r.closing.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), r.opts.Timeout)
		defer cancel()
		_ = r.sub.Drain(ctx) // changes made before Close are queued...
		r.sub.Close()
		r.cancel()
		r.wg.Wait()
		r.publish(ctx) // ...and get one last try
		r.mu.Lock()
		if n := len(r.queue.in) + len(r.queue.types); n > 0 {
			err = fmt.Errorf("%w: closed with %d records and %d types not published", ErrRedis, len(r.queue.in), len(r.queue.types))
		}
		r.flushed.Broadcast() // a Flush waiting gives up
		r.mu.Unlock()
		if c := r.opts.Cache; c != nil {
			c.replica.CompareAndSwap(r, nil)
		}
	})
	return err
}

func (r *Replica) replicated(typ string) bool { return r.types == nil || r.types[typ] }

// changed takes a batch of the Store's events and queues what is news to
// the other Replicas.
func (r *Replica) changed(batch []recstore.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	queued := false
	for _, ev := range batch {
		if ev.Kind == recstore.EventOverflow {
			// Events were lost: say every type may have changed.
			for _, t := range r.s.Types() {
				if r.replicated(t) {
					r.queueTypeLocked(t)
				}
			}
			queued = true
			continue
		}
		k := ev.Key
		if !r.replicated(k.Type) {
			continue
		}
		switch {
		case ev.Cause.Has(recstore.CauseSave):
			r.queueLocked(k, ev.Kind == recstore.EventRemoved)
			queued = true
		case ev.Cause.Has(recstore.CauseUnload):
			if n := r.unloading[k]; n > 0 {
				r.consumeUnloadLocked(k)
				break
			}
			r.queueLocked(k, false)
			queued = true
		case ev.Cause.Has(recstore.CausePush):
			if ev.Kind == recstore.EventAdded {
				break // new here: the others' copies have their own expiry
			}
			if _, ok := r.pending[k]; ok {
				delete(r.pending, k) // the reload a message asked for
				break
			}
			if ev.Kind == recstore.EventRemoved || hasChanges(ev) {
				r.queueLocked(k, false)
				queued = true
			}
		}
		if ev.Kind == recstore.EventRemoved {
			delete(r.seen, k)
			delete(r.pending, k)
		}
	}
	if queued {
		select {
		case r.wake <- struct{}{}:
		default:
		}
	}
}

// hasChanges reports whether ev changed data, not only the State.
func hasChanges(ev recstore.Event) bool {
	return !ev.State || len(ev.Attrs()) > 0 || len(ev.Rels()) > 0
}

func (r *Replica) consumeUnloadLocked(k recstore.Key) {
	if r.unloading[k] <= 1 {
		delete(r.unloading, k)
	} else {
		r.unloading[k]--
	}
}

func (r *Replica) queueLocked(k recstore.Key, deleted bool) {
	q := &r.queue
	if q.types[k.Type] {
		return // the whole type goes out anyway
	}
	if was, ok := q.in[k]; ok {
		if deleted && !was {
			q.in[k] = true
			q.changed = slices.DeleteFunc(q.changed, func(x recstore.Key) bool { return x == k })
			q.deleted = append(q.deleted, k)
		}
		return
	}
	if len(q.in) >= r.opts.QueueLimit {
		r.queueTypeLocked(k.Type)
		return
	}
	q.in[k] = deleted
	if deleted {
		q.deleted = append(q.deleted, k)
	} else {
		q.changed = append(q.changed, k)
	}
}

// queueTypeLocked replaces the queued records of typ by typ itself.
func (r *Replica) queueTypeLocked(typ string) {
	q := &r.queue
	if q.types == nil {
		q.types = map[string]bool{}
	}
	q.types[typ] = true
	drop := func(k recstore.Key) bool {
		if k.Type == typ {
			delete(q.in, k)
			return true
		}
		return false
	}
	q.changed = slices.DeleteFunc(q.changed, drop)
	q.deleted = slices.DeleteFunc(q.deleted, drop)
}

// work publishes what is queued and resyncs after a lost subscription.
func (r *Replica) work() {
	defer r.wg.Done()
	retry := time.NewTimer(time.Hour)
	retry.Stop()
	backoff := time.Duration(0)
	for {
		select {
		case <-r.ctx.Done():
			return
		case <-r.resync:
			r.resyncNow()
		case <-r.wake:
		case <-retry.C:
		}
		if ok := r.publish(r.ctx); ok {
			backoff = 0
			continue
		}
		if r.ctx.Err() != nil {
			return
		}
		backoff = min(max(2*backoff, 50*time.Millisecond), 2*time.Second)
		retry.Reset(backoff)
	}
}

// publish sends everything queued, a message at a time; it reports
// whether the queue is empty. What a message names leaves the queue when
// the message is taken, so that a change made while it is in flight is
// queued again, and comes back if the message fails.
func (r *Replica) publish(ctx context.Context) bool {
	for {
		r.mu.Lock()
		q := &r.queue
		if q.empty() {
			r.flushed.Broadcast()
			r.mu.Unlock()
			return true
		}
		m := &message{From: r.id}
		n := min(len(q.deleted), MaxMessageKeys)
		c := min(len(q.changed), MaxMessageKeys-n)
		dels, chgs := slices.Clone(q.deleted[:n]), slices.Clone(q.changed[:c])
		q.deleted, q.changed = slices.Delete(q.deleted, 0, n), slices.Delete(q.changed, 0, c)
		ks := append(slices.Clip(dels), chgs...)
		for _, k := range ks {
			delete(q.in, k)
		}
		for t := range q.types {
			m.Types = append(m.Types, t)
		}
		slices.Sort(m.Types)
		clear(q.types)
		m.Deleted, m.Changed = identifiers(dels), identifiers(chgs)
		q.inflight = len(ks)
		r.mu.Unlock()

		err := r.send(ctx, m, ks)
		r.mu.Lock()
		q.inflight = 0
		if err != nil {
			// Back in the queue, behind nothing: what was queued since is
			// news of the same records or of others, and goes too.
			for _, k := range dels {
				r.queueLocked(k, true)
			}
			for _, k := range chgs {
				r.queueLocked(k, false)
			}
			for _, t := range m.Types {
				r.queueTypeLocked(t)
			}
			r.flushed.Broadcast()
			r.mu.Unlock()
			r.report(fmt.Errorf("%w: publishing %d records and %d types (kept to send again): %w", ErrRedis, len(ks), len(m.Types), err))
			return false
		}
		// The version is not noted as what this Store knows of the
		// records: a message takes its version when it is sent, after the
		// write, so another Store's later write may have a lower one.
		r.mu.Unlock()
		r.stats.published.Add(1)
		r.stats.publishedRecords.Add(uint64(len(ks)))
	}
}

// send runs the publish script for m.
func (r *Replica) send(ctx context.Context, m *message, ks []recstore.Key) error {
	tail, err := m.tail()
	if err != nil {
		return err
	}
	keys := make([]string, 0, 1+2*len(ks)+len(m.Types))
	keys = append(keys, r.keys.ver())
	for _, k := range ks {
		keys = append(keys, r.keys.record(k.Type, k.ID), r.keys.lock(k.Type, k.ID))
	}
	for _, t := range m.Types {
		keys = append(keys, r.keys.typeMark(t))
	}
	ctx, cancel := context.WithTimeout(ctx, r.opts.Timeout)
	defer cancel()
	return publishScript.Exec(ctx, r.c, keys, []string{r.opts.Channel, string(tail), strconv.Itoa(len(m.Types))}).Error()
}

// receive keeps the subscription up.
func (r *Replica) receive() {
	defer r.wg.Done()
	ctx := rueidis.WithOnSubscriptionHook(r.ctx, func(s rueidis.PubSubSubscription) {
		if s.Kind != "subscribe" {
			return
		}
		r.connected.Store(true)
		if r.subscribed.Add(1) == 1 {
			r.once.Do(func() { close(r.ready) })
			return
		}
		// Back after a loss: messages may have been missed. Loads begun
		// before now may not see them; their versions no longer count.
		r.epoch.Add(1)
		select {
		case r.resync <- struct{}{}:
		default:
		}
	})
	ctx = rueidis.WithOnReceiveReturnHook(ctx, func(err error, _ rueidis.CommandClient) error {
		if err != nil && r.ctx.Err() == nil {
			r.connected.Store(false)
			r.report(fmt.Errorf("%w: subscription to %q lost: %w", ErrRedis, r.opts.Channel, err))
		}
		return err
	})
	backoff := time.Duration(0)
	for r.ctx.Err() == nil {
		err := r.c.Receive(ctx, r.c.B().Subscribe().Channel(r.opts.Channel).Build(), r.handle)
		if r.ctx.Err() != nil {
			return
		}
		r.connected.Store(false)
		r.report(fmt.Errorf("%w: subscribing to %q: %w", ErrRedis, r.opts.Channel, err))
		backoff = min(max(2*backoff, 50*time.Millisecond), 2*time.Second)
		select {
		case <-r.ctx.Done():
			return
		case <-time.After(backoff):
		}
	}
}

// resyncNow marks every replicated record stale: the subscription was
// lost, and messages with it.
func (r *Replica) resyncNow() {
	r.mu.Lock()
	clear(r.seen)
	clear(r.pending)
	r.mu.Unlock()
	var types []string
	for _, t := range r.s.Types() {
		if r.replicated(t) {
			types = append(types, t)
		}
	}
	if len(types) > 0 {
		_ = r.s.InvalidateAll(types...) // registered types: cannot fail
	}
	r.stats.resyncs.Add(1)
	r.opts.Logger.Info("recstoreredis: subscription back; every replicated record is stale", "channel", r.opts.Channel, "replica", r.id)
}

// handle applies another Replica's message. It runs on the client's
// connection goroutine: it must not block.
func (r *Replica) handle(msg rueidis.PubSubMessage) {
	defer func() {
		if p := recover(); p != nil {
			r.report(fmt.Errorf("recstoreredis: panic applying a message: %v", p))
		}
	}()
	m, err := decodeMessage([]byte(msg.Message))
	if err != nil {
		r.stats.bad.Add(1)
		r.report(err)
		return
	}
	if m.From == r.id {
		r.stats.own.Add(1)
		return
	}
	r.stats.received.Add(1)
	r.apply(m)
	if r.applied != nil {
		r.applied(m)
	}
}

func (r *Replica) apply(m *message) {
	known := map[string]bool{}
	for _, t := range r.s.Types() {
		known[t] = r.replicated(t)
	}
	if len(m.Types) > 0 {
		var types []string
		for _, t := range m.Types {
			if known[t] {
				types = append(types, t)
			}
		}
		if len(types) > 0 {
			_ = r.s.InvalidateAll(types...)
		}
	}
	var stale []recstore.Key
	var unload []recstore.Key
	r.mu.Lock()
	for i, list := range [][]identifier{m.Changed, m.Deleted} {
		for _, id := range list {
			k := id.key()
			if !known[k.Type] {
				continue
			}
			if r.seen[k] >= m.Ver {
				r.stats.late.Add(1)
				continue
			}
			stale = append(stale, k)
			if !r.s.Has(k) {
				continue // a load under way is marked by Invalidate
			}
			r.seen[k] = m.Ver
			r.pending[k] = struct{}{}
			if i == 1 || r.opts.Unload {
				unload = append(unload, k)
				r.unloading[k]++
			}
		}
	}
	r.sweepLocked()
	r.mu.Unlock()
	if len(stale) > 0 {
		_ = r.s.Invalidate(stale...) // known types only: cannot fail
		r.stats.invalidated.Add(uint64(len(stale)))
	}
	for _, k := range unload {
		// Unchanged only: an edit made here, even now, is never lost.
		if err := r.s.UnloadUnchanged(k); err != nil {
			r.mu.Lock()
			r.consumeUnloadLocked(k)
			r.mu.Unlock()
		}
	}
}

// observe records that the Store's copy of k, read from the shared cache,
// reflects every message up to ver, if no resync came since epoch.
func (r *Replica) observe(k recstore.Key, ver, epoch uint64) {
	if r.epoch.Load() != epoch || !r.replicated(k.Type) {
		return
	}
	r.mu.Lock()
	if r.seen[k] < ver {
		r.seen[k] = ver
	}
	r.sweepLocked()
	r.mu.Unlock()
}

// sweepLocked forgets versions and marks of records the Store no longer
// holds, once they outnumber the last sweep's survivors twice over: the
// maps stay proportional to the Store.
func (r *Replica) sweepLocked() {
	if len(r.seen)+len(r.pending)+len(r.unloading) < r.sweepAt {
		return
	}
	for k := range r.seen {
		if !r.s.Has(k) {
			delete(r.seen, k)
		}
	}
	for k := range r.pending {
		if !r.s.Has(k) {
			delete(r.pending, k)
		}
	}
	for k := range r.unloading {
		if !r.s.Has(k) {
			delete(r.unloading, k)
		}
	}
	r.sweepAt = max(4096, 2*(len(r.seen)+len(r.pending)+len(r.unloading)))
}

// report hands a fault to OnError or the Logger.
func (r *Replica) report(err error) {
	r.stats.errors.Add(1)
	r.errMu.Lock()
	defer r.errMu.Unlock()
	if r.opts.OnError == nil {
		r.opts.Logger.Warn("recstoreredis: replica fault", "channel", r.opts.Channel, "replica", r.id, "err", err)
		return
	}
	defer func() { _ = recover() }() // a panicking handler loses its report, nothing else
	r.opts.OnError(err)
}
