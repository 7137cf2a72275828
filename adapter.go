package recstore

import (
	"context"
	"net/url"
)

// A Request says what the Store asks of an Adapter. Each call fills only
// the fields its operation uses; an Adapter must not modify a Request.
type Request struct {
	// Type is the model type asked about.
	Type string
	// ID is the record's id, for FindRecord, UpdateRecord and
	// DeleteRecord.
	ID string
	// IDs are the records' ids, for FindMany, in the order asked.
	IDs []string
	// Include names related records the response should include, as
	// JSON:API's include parameter does ("label", "tracks.artist").
	Include []string
	// Query holds a Query or QueryRecord call's parameters.
	Query url.Values
	// Body is the record as its serializer wrote it, for CreateRecord and
	// UpdateRecord.
	Body []byte
	// Link is a URL the backend sent in a links object, as it was sent
	// (absolute, host-relative or relative), for LinkFinder.FindLink.
	Link string
	// Relationship names the relationship of the record Type/ID whose
	// related link Link is. It is "" when Link is a collection's
	// pagination link; Type is then the collection's type.
	Relationship string

	// store is the Store making the request, or nil for a Request made
	// elsewhere. The built-in adapters take its inflection rules (see
	// Options.Inflector) for their default paths, so that paths and
	// payloads name a type alike.
	store *Store
	// maxAge is the answer's expiry, if the Adapter gave one (see
	// SetMaxAge).
	maxAge maxAge
	// since is Store.saveSeq + 1 when the request was made: a record
	// whose save was confirmed after that (numbered since or later) may
	// have an older state in the answer than the Store holds (see
	// commit.savedSince). 0 for requests that are not loads.
	since uint64
	// inv is Store.invSeq when a load request was made: a record
	// invalidated after it lands still invalidated (see beginLoad).
	inv uint64
}

// An Adapter loads records the Store lacks, from a backend: usually over
// HTTP (see HTTPAdapter), in tests from memory. Its one required method
// loads one record; the Store finds further capabilities by type
// assertion (AllFinder, ManyFinder, Querier, RecordQuerier, Creator,
// Updater, Deleter, IDGenerator, ReloadPolicy), on it or, through
// AdapterWrapper, on the Adapter it wraps.
//
// FindRecord returns the backend's payload for the record req.Type/req.ID,
// in the form the type's Serializer reads; the Store normalizes and pushes
// it. A record the backend does not have is an error wrapping ErrNotFound.
// FindRecord must honour ctx, must not keep req or the returned bytes'
// ownership (the Store reads them and lets them go), and must not call
// back into the Store. An Adapter must be safe for concurrent use.
//
// A panic in an Adapter method, or in other user code the Store runs for
// it (a Serializer, a Transform, a json.Unmarshaler, a ManyGrouper, an
// HTTPAdapter's Prepare or URLForFindMany), on a goroutine the Store owns
// does not end the process: every Find's call, background reloads,
// coalesced batches, LoadRelated's calls and Save's (Serializer and
// Adapter) run there, and the Store hands each caller waiting on the call, or
// OnBackgroundError, an error wrapping a *PanicError (errors.Is
// ErrPanic). On the caller's own goroutine, as in a foreground FindAll,
// Query, QueryRecord, a page's Next (and so Pages and QueryPages), or a
// ReloadPolicy method, the panic reaches the caller as any panic does. Either way the Store is left as it was.
type Adapter interface {
	FindRecord(ctx context.Context, req *Request) ([]byte, error)
}

// AdapterFunc adapts an ordinary function to the Adapter interface.
type AdapterFunc func(ctx context.Context, req *Request) ([]byte, error)

// FindRecord calls f(ctx, req).
func (f AdapterFunc) FindRecord(ctx context.Context, req *Request) ([]byte, error) {
	return f(ctx, req)
}

// An AdapterWrapper is an Adapter that wraps another, as a cache or a
// recorder in front of a backend does. The Store looks for each optional
// capability (AllFinder, ManyFinder, Creator, ReloadPolicy…) on the
// wrapper first, then on what Unwrap returns, and so on down the chain,
// as errors.As looks through wrapped errors: a wrapper implements only
// the methods it changes, and the wrapped Adapter's others still count.
type AdapterWrapper interface {
	Adapter
	// Unwrap returns the Adapter wrapped.
	Unwrap() Adapter
}

// maxAdapterWraps bounds the chain capability follows, so a wrapper that
// unwraps to itself cannot loop.
const maxAdapterWraps = 16

// capability finds the capability X on ad or on the Adapters it wraps.
func capability[X any](ad Adapter) (X, bool) {
	for range maxAdapterWraps {
		if ad == nil {
			break
		}
		if x, ok := ad.(X); ok {
			return x, true
		}
		w, ok := ad.(AdapterWrapper)
		if !ok {
			break
		}
		ad = w.Unwrap()
	}
	var zero X
	return zero, false
}

// An AllFinder is an Adapter that can load every record of req.Type, for
// [Store.FindAll]. Without it FindAll fails with ErrNotSupported.
type AllFinder interface {
	FindAll(ctx context.Context, req *Request) ([]byte, error)
}

// A ManyFinder is an Adapter that can load several records of req.Type at
// once, by req.IDs, as coalesced Finds use. A response may leave out ids
// it does not have.
type ManyFinder interface {
	FindMany(ctx context.Context, req *Request) ([]byte, error)
}

// A Querier is an Adapter that can run a query for records of req.Type,
// for [Store.Query].
type Querier interface {
	Query(ctx context.Context, req *Request) ([]byte, error)
}

// A RecordQuerier is an Adapter that can run a query for one record of
// req.Type, for [Store.QueryRecord].
type RecordQuerier interface {
	QueryRecord(ctx context.Context, req *Request) ([]byte, error)
}

// A LinkFinder is an Adapter that can load a document through a link the
// backend sent: a relationship's related link (req.Type and req.ID name
// the record that holds it, req.Relationship the relationship) or a
// collection's pagination link (req.Type names the collection's type and
// req.Query holds the query that made it). req.Link is the link as sent;
// resolving a relative one is the adapter's business, as HTTPAdapter
// resolves it against the URL it built for the record or collection.
type LinkFinder interface {
	FindLink(ctx context.Context, req *Request) ([]byte, error)
}

// A Creator is an Adapter that can create a record from req.Body and
// return the backend's view of it, as [Store.Save] asks of a record
// created locally. req.ID is the record's id if it has one (a client id);
// a record without one is sent with its lid. The answer must give the
// record its id; an empty answer only confirms a record that has one.
type Creator interface {
	CreateRecord(ctx context.Context, req *Request) ([]byte, error)
}

// An Updater is an Adapter that can save req.Body over the record req.ID
// and return the backend's view of it, or nothing (an empty answer, as a
// 204, confirms what was sent), as [Store.Save] asks of a loaded record.
type Updater interface {
	UpdateRecord(ctx context.Context, req *Request) ([]byte, error)
}

// A Deleter is an Adapter that can delete the record req.ID, as
// [Store.Save] asks of a record marked by Delete.
type Deleter interface {
	DeleteRecord(ctx context.Context, req *Request) error
}

// An IDGenerator is an Adapter that gives records created without an id
// one of their own, at once, as Ember Data's generateIdForRecord does:
// from a UUID source, say. Create asks it when the new record's primary
// field is empty. It must not call back into the Store, and must be safe
// for concurrent use. An empty id means none: the record gets a local
// identifier until its save (see LIDPrefix).
type IDGenerator interface {
	GenerateID(typ string, snap *Snapshot) (string, error)
}

// A ReloadPolicy is an Adapter that decides when cached records are
// fetched again, as Ember Data's shouldReload hooks do. Without it the
// Store uses DefaultReloadPolicy's answers. Embed DefaultReloadPolicy in
// an Adapter to override only some of them. The methods are called
// without any Store lock held and must not call back into the Store.
type ReloadPolicy interface {
	// ShouldReloadRecord reports whether Find of a cached record waits
	// for a fresh copy.
	ShouldReloadRecord(snap *Snapshot) bool
	// ShouldBackgroundReloadRecord reports whether Find of a cached record,
	// having returned it, fetches a fresh copy in the background.
	ShouldBackgroundReloadRecord(snap *Snapshot) bool
	// ShouldReloadAll reports whether FindAll waits for the backend, given
	// how many records of typ the Store holds.
	ShouldReloadAll(typ string, cached int) bool
	// ShouldBackgroundReloadAll reports whether FindAll, having returned
	// the cached records, fetches them again in the background.
	ShouldBackgroundReloadAll(typ string, cached int) bool
}

// DefaultReloadPolicy gives Ember Data's default answers: a cached record
// is returned at once and refreshed in the background; FindAll waits for
// the backend only when nothing of the type is cached, and otherwise
// refreshes in the background.
type DefaultReloadPolicy struct{}

var _ ReloadPolicy = DefaultReloadPolicy{}

// EmberReloadPolicy is DefaultReloadPolicy under the name of where it comes
// from: Ember Data's default, which serves every cached record at once and
// reloads it in the background, so every hit is a backend call. It is the
// Store's default for compatibility with Ember Data; a service that wants
// its cache to take load off the backend gives the Store an [Expiry].
type EmberReloadPolicy = DefaultReloadPolicy

// ShouldReloadRecord returns false.
func (DefaultReloadPolicy) ShouldReloadRecord(*Snapshot) bool { return false }

// ShouldBackgroundReloadRecord returns true.
func (DefaultReloadPolicy) ShouldBackgroundReloadRecord(*Snapshot) bool { return true }

// ShouldReloadAll reports whether nothing is cached.
func (DefaultReloadPolicy) ShouldReloadAll(_ string, cached int) bool { return cached == 0 }

// ShouldBackgroundReloadAll returns true.
func (DefaultReloadPolicy) ShouldBackgroundReloadAll(string, int) bool { return true }

// A Reload says whether a Find or FindAll fetches a record the Store
// already holds; its zero value lets the Adapter's ReloadPolicy decide.
type Reload int

const (
	// ReloadDefault asks the Adapter's ReloadPolicy (or
	// DefaultReloadPolicy).
	ReloadDefault Reload = iota
	// ReloadAlways fetches, whatever the policy says.
	ReloadAlways
	// ReloadNever does not fetch a record the Store holds.
	ReloadNever
)

func policyOf(a Adapter) ReloadPolicy {
	if p, ok := capability[ReloadPolicy](a); ok {
		return p
	}
	return DefaultReloadPolicy{}
}
