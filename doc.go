// Package recstore is a client-side record store for Go programs that talk
// to JSON:API backends: an identity map of typed records keyed by type and
// id, filled by pushing JSON:API documents, in the spirit of Ember Data's
// store.
//
// # Quick start
//
//	type Album struct {
//		ID        string `jsonapi:"primary,album"`
//		Title     string `jsonapi:"attr,title"`
//		SongCount int    `jsonapi:"attr,songCount"`
//	}
//
//	store := recstore.New(nil)
//	albums := recstore.MustRegister[Album](store, nil)
//	_, err := store.Push(`{"data": {"type": "album", "id": 1,
//		"attributes": {"title": "Fewer Moving Parts", "songCount": 10}}}`)
//	a, ok := albums.Peek("1")
//	fmt.Printf("%+v %v %v\n", a, ok, err) // {ID:1 Title:Fewer Moving Parts SongCount:10} true <nil>
//
// # Models
//
// A model is a plain struct with google/jsonapi struct tags, registered per
// Store with [Register], which returns a typed [Model] handle. Registration
// checks the struct once and caches its layout; it fails with a
// *[ModelError] rather than panicking. Relations are *S / []*S fields, filled
// one level deep on every read with the related records' current state, or
// [Key] / []Key fields, which hold identifiers only; a field of interface
// type holds records of every model implementing it (polymorphic). Inverses
// are declared with a `recstore:"inverse=NAME"` tag or
// [ModelOptions].Inverses and are kept in step both ways. A struct you
// cannot tag gets its tags through [ModelOptions].Tags.
//
// # Pushing
//
// [Store.Push] merges a JSON:API document: omitted attributes keep their
// values, null clears, members the model does not define are ignored, and
// relationship data replaces. [Model.Push] does the same and returns the
// typed records. A push is all or nothing: on any error the Store is exactly
// as it was.
//
// # Serializers
//
// [Store.PushPayload] takes a backend's own payload, normalizes it with the
// type's [Serializer] ([JSONAPISerializer], [RESTSerializer],
// [JSONSerializer] or your own) and pushes it all or nothing, returning
// every record it pushed. [Store.Normalize] stops before the push;
// [Store.Serialize] writes a record back; [Store.ExtractErrors] maps a
// backend's validation errors to attribute names. The built-in serializers
// are configured, not subclassed: key mappings, a primary key, a per-record
// NormalizeHash hook, embedded relationships and custom [Transform]s.
// Serializers coerce values as Ember Data's transforms do; Push never does.
//
// # Finding
//
// [Model.Find] returns a record from the Store, or loads it with the
// type's [Adapter] when the Store lacks it; reload policies decide when a
// cached record is fetched again, in the foreground or in the background.
// Concurrent Finds of one record share one adapter call, and each caller's
// context is honoured on its own; with [Options].Coalesce, Finds of one type
// are batched into FindMany calls. [Model.FindAll], [Model.Query] and
// [Model.QueryRecord] ask the backend for more; [Store.Close] ends the
// Store's background work. [HTTPAdapter] and [RESTAdapter] speak to HTTP
// backends; package recstoretest provides an in-memory Adapter, a test
// server and a conformance check for tests.
//
// # Caching for a service
//
// By default a cached record is served and reloaded in the background, as
// in Ember Data ([EmberReloadPolicy]). An [Expiry] makes the cache
// time-based: fresh records cost no call, stale ones are served and
// reloaded, expired ones reloaded first ([Model.PeekFreshness],
// [Store.Invalidate]). [Options].MaxRecords and MaxBytes bound memory,
// evicting by S3-FIFO what is read least and never what has unsaved
// changes or a [Retain] holds; MaxConcurrentCalls caps the calls on the
// backend; [Store.Stats] and [Store.Var] report what the cache did.
// [Store.Dump] and [Store.Restore] write the whole Store to a stream and
// read it back, so that a service warms up from disk.
//
// # Reading
//
// [Model.Peek] returns a copy of one record without I/O and without a lock;
// [Model.All] iterates a type in insertion order; [Store.Related] tells a
// relationship's keys, including those of records not loaded.
// [Store.Unload] and [Store.UnloadAll] remove records and clear inverses;
// a record being saved cannot be unloaded.
//
// # Writing
//
// [Model.Create] adds a record the backend does not have yet (with no id,
// it goes by a local identifier until its save gives it one);
// [Model.Edit] changes a typed copy, and what changed becomes the record's
// local changes ([Store.SetAttr] and [Store.SetRelated] do it by name).
// [Store.ChangedAttributes] and [Store.ChangedRelationships] report them,
// [Store.Rollback] drops them, [Store.Delete] marks a record for deletion,
// and [Store.Save] sends the record to the backend through its Adapter and
// Serializer, merging the answer; [Store.Destroy] deletes, saves and
// unloads. [Store.State] tells where a record is in its life.
//
// # Notifications
//
// [Store.Subscribe] and [Model.Subscribe] deliver each change as a batch
// of [Event]s, on a goroutine of the Store's with a bounded buffer, so a
// slow subscriber never holds up a push; [Model.View] keeps a filtered
// list of records current; [Model.GuardOrder] leaves out stale messages
// of a stream.
//
// # Concurrency
//
// A Store is safe for concurrent use by multiple goroutines. Changes are
// serialized and published at once, so a reader never sees half of a push;
// reads take no lock and scale with cores. Every value a Store returns is the
// caller's own copy: mutating it never changes the Store, and the Store keeps
// no reference to documents passed to it.
//
// # Errors
//
// Errors come in families: branch on a family's sentinel with errors.Is,
// and read the details with errors.As on its typed error, which matches
// the sentinel too.
//
// A push that fails (Push, PushPayload) changes nothing and returns a
// *[DocumentError] ([ErrInvalidDocument]) with a JSON pointer to the bad
// member. It wraps the cause: a *[SyntaxError] ([ErrSyntax], and
// [ErrDuplicateMember] for an object that repeats a member name, which
// every entry point rejects), an *[AttributeError] ([ErrInvalidAttribute];
// it may wrap [ErrLossyCoercion] from a Strict serializer or
// [ErrUnknownTransform]), a *[LimitError] ([ErrLimit]) or
// [ErrUnknownType]. Limits on document size, depth, resource count,
// linkage count and id length are set in [Options]; within them, the
// memory a push retains per document byte is bounded (see the README).
// [Register] refuses a type with a *[ModelError] ([ErrInvalidModel]).
//
// A call that asks a backend (Find, FindAll, Query, QueryRecord, a page
// after the first) wraps what went wrong in an *[AdapterError] naming the
// call: the adapter's error, a *DocumentError for an answer that cannot
// be pushed, [ErrNotFound], [ErrNoMatch] (a QueryRecord that matched
// nothing, which matches ErrNotFound too), [ErrWrongRecord],
// [ErrBadResponse], [ErrNoAdapter] or [ErrNotSupported]. A Find whose own
// context ends returns ctx.Err(). Other failures: [ErrClosed] after
// Close, [ErrNotLoaded] for a record the Store does not hold,
// [ErrUnknownRelationship], [ErrNotSerializable], and a *[PageLoopError]
// ([ErrPageLoop]) for a next link that leads back to a page walked.
//
// An Adapter of any kind reports a backend's refusal as a *[BackendError]
// with a status and JSON:API error objects, matching a status sentinel:
// [ErrInvalid], [ErrUnauthorized], [ErrForbidden], [ErrNotFound],
// [ErrConflict] or [ErrServer]. HTTPAdapter and RESTAdapter report an
// *[HTTPError], which matches the same sentinels and reads as a
// *BackendError with errors.As; one with no usable response (Status 0)
// matches [ErrTimeout], [ErrAborted], [ErrBadResponse],
// [ErrCrossOriginRedirect] or [ErrCrossOriginLink].
//
// User code that panics on a goroutine the Store owns (an Adapter method
// in a shared Find, a background reload, a coalesced batch) reaches every
// waiting caller as a *[PanicError] ([ErrPanic]); on the caller's own
// goroutine a panic goes on to the caller, after the Store has undone what
// the call began.
//
// What the Store notices but does not fail on (members a model does not
// define, types with no model, lossy coercions, failed background
// reloads) reaches [Options].OnReport as a [Report], or the Logger.
package recstore
