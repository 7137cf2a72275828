package recstore_test

import (
	"encoding/json"
	"errors"
	"log/slog"
	"regexp"
	"strings"
	"testing"

	"github.com/recstore/recstore"
	"github.com/stretchr/testify/require"
)

// fuzzOptions keeps limits small so that each fuzz input is cheap, and so
// that the fuzzer reaches the limit checks at all.
func fuzzOptions() *recstore.Options {
	return &recstore.Options{
		MaxDocumentBytes: 64 << 10,
		MaxDepth:         16,
		MaxResources:     64,
		MaxIDBytes:       64,
		Logger:           slog.New(slog.DiscardHandler),
	}
}

// pushSeeds are documents from push_test.go and store_test.go, valid and
// invalid, so the fuzzer starts from every branch those tests reach.
var pushSeeds = []string{
	base,
	// Valid documents.
	`{"data": null}`,
	`{"data": []}`,
	`{"data": {"type": "album", "id": 1, "attributes": {"title": "T", "songCount": 2}}}`,
	`{"data": [{"type": "album", "id": "3"}, {"type": "label", "id": "1"}, {"type": "album", "id": 1}]}`,
	`{"data": [{"type": "album", "id": -4}, {"type": "album", "id": 18446744073709551616}]}`,
	`{"data": [{"type": "album", "id": "1", "attributes": {"title": "A", "artist": "X"}}, {"type": "album", "id": "1", "attributes": {"title": "B"}}]}`,
	`{"data": {"type": "album", "id": "1", "attributes": {"title": null, "songCount": null}}}`,
	`{"data": {"type": "album", "id": "1", "attributes": {"title": "A", "genre": {"deep": [1, 2]}, "Title": "case matters"}, "relationships": {"producer": {"data": {"type": "nobody", "id": "1"}}}, "meta": {"x": 1}, "links": {"self": "/a/1"}, "extra": true}}`,
	`{"data": {"type": "album", "id": "1", "attributes": {"title": "data"}}, "included": [{"type": "album", "id": "1", "attributes": {"title": "included", "artist": "Y"}}]}`,
	`{"data": {"type": "album", "id": "1", "attributes": {"title": "a\"b\\c\u00e9\ud83c\udfb5\n", "artist": "Björk"}}}`,
	`{"data": {"type": "kinds", "id": 42, "attributes": {"s": "str", "b": true, "i": -1, "i8": -128, "i16": 32767, "i32": -2147483648, "i64": 9223372036854775807, "u": 1, "u8": 255, "u16": 65535, "u32": 4294967295, "u64": 18446744073709551615, "f32": 1.5, "f64": -2.25e10, "t": "2024-05-06T07:08:09Z", "ps": "p", "pi": 7, "pt": 1714979289, "tags": ["a", "b"], "meta": {"k": [1, "x"]}, "nested": {"X": 1, "Y": 2, "Tags": ["n"]}, "any": [true], "raw": "21.5C", "scores": {"a": 1}, "points": [{"X": 3}, null]}}}`,
	`{"data": {"type": "kinds", "id": 42, "attributes": {"s": null, "b": null, "i": null, "u64": null, "f64": null, "t": null, "ps": null, "pi": null, "pt": null, "tags": null, "meta": null, "nested": null, "any": null, "scores": null, "points": null}}}`,
	`{"data": {"type": "kinds", "id": 1, "relationships": {"ref": {"data": {"type": "album", "id": "1"}}, "refs": {"data": [{"type": "label", "id": "2"}, {"type": "track", "id": 3}]}}}}`,
	// Relationships, inverses and cycles.
	`{"data": {"type": "album", "id": "1", "relationships": {"label": {"data": {"type": "label", "id": "7"}}, "tracks": {"data": [{"type": "track", "id": "a"}]}}}}`,
	`{"data": {"type": "album", "id": "1", "relationships": {"label": {"links": {"related": "/albums/1/label"}}, "tracks": {"meta": {"count": 9}}}}}`,
	`{"data": {"type": "album", "id": "1", "relationships": {"label": {"data": null}, "tracks": {"data": []}}}}`,
	`{"data": {"type": "album", "id": "1", "relationships": {"tracks": {"data": [{"type": "track", "id": "a"}, {"type": "track", "id": "a"}, {"type": "track", "id": "b"}]}}}}`,
	`{"data": [{"type": "track", "id": "a", "relationships": {"album": {"data": {"type": "album", "id": "1"}}}}, {"type": "track", "id": "b", "relationships": {"album": {"data": {"type": "album", "id": "1"}}}}], "included": [{"type": "album", "id": "1"}]}`,
	`{"data": {"type": "track", "id": "t1", "relationships": {"album": {"data": {"type": "album", "id": "2"}}}}}`,
	`{"data": [{"type": "album", "id": "2", "relationships": {"tracks": {"data": [{"type": "track", "id": "t1"}]}}}]}`,
	`{"data": [{"type": "album", "id": "1", "relationships": {"tracks": {"data": [{"type": "track", "id": "a"}]}}}, {"type": "track", "id": "a", "relationships": {"album": {"data": {"type": "album", "id": "2"}}}}], "included": [{"type": "album", "id": "2"}]}`,
	`{"data": {"type": "album", "id": "1", "relationships": {"tracks": {"data": [{"type": "track", "id": "a"}]}}}, "included": [{"type": "track", "id": "a", "relationships": {"album": {"data": {"type": "album", "id": "1"}}}}]}`,
	`{"data": {"type": "track", "id": "t2", "relationships": {"album": {"data": null}}}, "included": [{"type": "album", "id": "1", "relationships": {"tracks": {"data": [{"type": "track", "id": "t2"}, {"type": "track", "id": "t1"}]}}}]}`,
	// Invalid documents.
	`{"data": [}`,
	``,
	`{"data": null} x`,
	`{"data": {"type": "album", "id": "1"`,
	`[{"data": null}]`,
	`"data"`,
	`{"meta": {}}`,
	`{"data": "x"}`,
	`{"data": {"id": "1"}}`,
	`{"data": {"type": "album"}}`,
	`{"data": {"type": "album", "id": ""}}`,
	`{"data": {"type": "album", "id": null}}`,
	`{"data": {"type": "album", "id": {"a": 1}}}`,
	`{"data": {"type": "album", "id": 1.5}}`,
	`{"data": {"type": 3, "id": "1"}}`,
	`{"data": [{"type": "album", "id": "9"}, {"type": "album", "id": "8"}, {"type": "album", "id": false}]}`,
	`{"data": {"type": "albums", "id": "1"}}`,
	`{"data": null, "included": [{"type": "album", "id": "3"}, {"type": "singer", "id": "1"}]}`,
	`{"data": {"type": "album", "id": "1", "relationships": {"label": {"data": {"type": "singer", "id": "1"}}}}}`,
	`{"data": {"type": "album", "id": "1", "relationships": {"label": {"data": {"type": "track", "id": "1"}}}}}`,
	`{"data": {"type": "album", "id": "1", "attributes": {"songCount": "ten"}}}`,
	`{"data": {"type": "album", "id": "1", "attributes": {"songCount": 1e2}}}`,
	`{"data": {"type": "kinds", "id": "1", "attributes": {"i8": 128}}}`,
	`{"data": {"type": "kinds", "id": "1", "attributes": {"u": -1}}}`,
	`{"data": {"type": "kinds", "id": "1", "attributes": {"f32": 1e39}}}`,
	`{"data": {"type": "kinds", "id": "1", "attributes": {"t": "yesterday"}}}`,
	`{"data": {"type": "kinds", "id": "1", "attributes": {"raw": "hot"}}}`,
	`{"data": {"type": "kinds", "id": "abc"}}`,
	`{"data": {"type": "album", "id": "1", "attributes": []}}`,
	`{"data": {"type": "album", "id": "1", "relationships": {"label": "7"}}}`,
	`{"data": {"type": "album", "id": "1", "relationships": {"label": {"data": [{"type": "label", "id": "7"}]}}}}`,
	`{"data": {"type": "album", "id": "1", "relationships": {"tracks": {"data": {"type": "track", "id": "t1"}}}}}`,
	`{"data": null, "included": {}}`,
	`{"data": [{"type": "album", "id": "1", "attributes": {"title": "changed"}}, {"type": "album", "id": "99", "attributes": {"title": "new"}}, {"type": "album", "id": "3", "attributes": {"songCount": "x"}}]}`,
	`{"data": {"type": "album", "id": "1", "attributes": {"title": "changed"}}, "included": [{"type": "label", "id": "7", "attributes": {"name": 1}}]}`,
	`{"data": null, "meta": ` + strings.Repeat(`{"a":`, 20) + "1" + strings.Repeat("}", 20) + `}`,
	`{"data": {"type": "album", "id": "` + strings.Repeat("9", 65) + `"}}`,
}

// dumpPointers matches the addresses Dump prints for pointer fields.
var dumpPointers = regexp.MustCompile(`0x[0-9a-f]+`)

// storeState is what a repeated push must not change: the Dump with
// pointer addresses masked (a push that stores an equal value stores it
// at a new address) and a copy of every loaded record, so that what
// those pointers point to is compared too.
func storeState(s *recstore.Store) (string, []any) {
	var records []any
	for _, typ := range s.Types() {
		for _, k := range s.Keys(typ) {
			v, _ := s.Peek(k)
			records = append(records, k, v)
		}
	}
	return dumpPointers.ReplaceAllString(recstore.Dump(s), "0x…"), records
}

// checkPushContract runs push against s and checks the all-or-nothing
// contract: a failed push matches one of the wanted sentinels and leaves s
// exactly as it was; a successful one, repeated, returns the same keys and
// changes nothing more, since every rule of a push (merge, replace,
// inverses) converges on the document's own state.
func checkPushContract(t *testing.T, s *recstore.Store, push func() ([]recstore.Key, error), want ...error) {
	t.Helper()
	before := recstore.Dump(s)
	keys, err := push()
	if err != nil {
		matched := false
		for _, w := range want {
			matched = matched || errors.Is(err, w)
		}
		require.True(t, matched, "error %q matches none of %v", err, want)
		require.Nil(t, keys)
		require.NotEmpty(t, err.Error())
		require.Equal(t, before, recstore.Dump(s), "the push failed (%v) but changed the store", err)
		return
	}
	require.NoError(t, recstore.CheckInverses(s), "inverses out of step after a push")
	dump, records := storeState(s)
	again, err := push()
	require.NoError(t, err, "the same push failed the second time")
	require.Equal(t, keys, again, "the same push returned other keys the second time")
	dumpAgain, recordsAgain := storeState(s)
	require.Equal(t, dump, dumpAgain, "the same push changed the store again")
	require.Equal(t, records, recordsAgain, "the same push changed a record's value again")
}

func FuzzPush(f *testing.F) {
	for _, seed := range pushSeeds {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		s, _, _, _, _ := newStore(t, fuzzOptions())
		_, err := s.Push(base)
		require.NoError(t, err)
		checkPushContract(t, s, func() ([]recstore.Key, error) { return s.Push(doc) }, recstore.ErrInvalidDocument)

		// The same resources as a Document take Push's other path, which
		// must keep the same contract.
		var d recstore.Document
		if json.Unmarshal(doc, &d) != nil {
			return
		}
		s, _, _, _, _ = newStore(t, fuzzOptions())
		_, err = s.Push(base)
		require.NoError(t, err)
		checkPushContract(t, s, func() ([]recstore.Key, error) { return s.Push(&d) }, recstore.ErrInvalidDocument)
	})
}

// payloadTypes are the typ arguments FuzzPushPayload picks from: every
// registered model, none, and one unknown.
var payloadTypes = []string{"", "album", "label", "track", "kinds", "post", "comment", "person", "github-handle", "coerced", "nope"}

// payloadSeeds pair an index into payloadTypes with a payload from
// serializer_test.go, valid and invalid.
var payloadSeeds = []struct {
	typ     byte
	payload string
}{
	{1, `{"albums": [{"id": 1, "title": "Fever Moving Parts", "artist": "David Bazan", "song_count": 10}, {"id": 2, "title": "Calgary", "artist": "Bon Iver", "song_count": 2}]}`},
	{1, `{"album": {"id": 1, "song_count": 11}}`},
	{5, `{"posts": [{"id": 1, "title": "a"}, {"id": "2", "title": "b"}]}`},
	{5, `{"post": {"id": 1, "title": "a", "comments": [1, 2], "author": 9}}`},
	{5, `{"comments": [{"id": 1, "body": "c1"}], "post": {"id": 1, "title": "a", "comments": [1]}, "people": [{"id": 9, "firstName": "Ann"}]}`},
	{5, `{"post": {"id": 1, "title": "main"}, "_posts": [{"id": 2, "title": "related"}]}`},
	{5, `{"meta": {"total": 1}, "posts": [{"id": 1}], "comments": null, "evilMinions": [{"id": 1}]}`},
	{0, `{"people": [{"id": 1}], "posts": [{"id": 2}]}`},
	{0, `{"github_handles": [{"id": "h1", "userName": "ann", "owner": {"id": 1, "type": "people"}}]}`},
	{0, `{"githubHandles": [{"id": "h1", "owner": 1, "ownerType": "people"}, {"id": "h2", "owner": 2, "ownerType": 7}]}`},
	{8, `{"githubHandle": {"id": "h1", "owner": "x", "ownerType": "planet"}}`},
	{5, `{"post": {"id": 1, "author": {"id": 5, "firstName": "Tom"}, "comments": [{"id": 7, "body": "hi"}, 8]}}`},
	{1, `{"albums": [{"id": 1, "tracks_total": 12, "record_label": 3, "tracks": [1, {"id": 2, "title": "two"}]}], "labels": [{"id": 3, "name": "4AD"}]}`},
	{5, `{"meta": {"total": 3}, "posts": []}`},
	{5, `{"id": 1, "title": "t", "comments": [1, 2], "author": null}`},
	{5, `[{"id": 2}, {"id": 3}]`},
	{0, `{"id": 1}`},
	{0, `{"data": [{"type": "github-handles", "id": "h1", "attributes": {"user-name": "ann", "userName": "camel is ignored"}, "relationships": {"owner": {"data": {"type": "people", "id": 1}}}}], "included": [{"type": "people", "id": "1", "attributes": {"first-name": "Ann"}}, {"type": "unicorns", "id": "1"}], "meta": {"page": 1}}`},
	{0, `{"data": [{"type": "people", "id": "2"}, {"type": "unicorns", "id": "1"}]}`},
	{0, `{"data": {"type": "posts", "id": "1", "relationships": {"comments": {"links": {"related": "/posts/1/comments"}}}}}`},
	{0, `{"data": {"type": "albums", "id": "1", "attributes": {"song-count": 3}, "relationships": {"tracks": {"data": [{"type": "tracks", "id": "t2"}]}}}}`},
	{9, `{"id": 1, "s": 12.5, "n": "42", "f": "1.1", "b": "T", "pb": 1, "t": "2020-01-02T03:04:05+0100", "temp": 212, "tags": ["a"]}`},
	{9, `{"id": 1, "n": true, "f": false, "b": "yes", "t": 1577934245000}`},
	{9, `{"coerced": {"id": 1, "t": "2020-01-02", "temp": "hot"}}`},
	{5, `[{"id": 1}]`},
	{5, `{"post": {"id": 1, "comments": [1], "links": {"comments": "/posts/1/comments", "author": {"href": "/people/9"}, "nope": "/x"}}}`},
	{5, `{"post": {"id": 1, "links": {"comments": 5}}}`},
	{5, `{"id": 1, "links": ["/posts/1/comments"]}`},
	{5, `{"posts": 3}`},
	{5, `{"posts": [{"id": 1}, {"title": "x"}]}`},
	{5, `{"posts": [{"id": [1]}]}`},
	{5, `{"posts": [{"id": 1, "author": true}]}`},
	{5, `{"posts": [{"id": 1, "comments": 4}]}`},
	{5, `{"posts": [{"id": 1, "title": {"a": 1}}]}`},
	{1, `{"albums": [{"id": 1, "songCount": "1.5"}]}`},
	{5, `{"posts": [}`},
	{0, `{"data": [{"id": 1}]}`},
	{0, `{"meta": {}}`},
	{0, `{"data": {"type": "posts", "id": 1, "relationships": {"author": {"data": [{"type": "people", "id": 1}]}}}}`},
	{5, `"post"`},
	{10, `{}`},
	{4, `{"kinds": {"id": 5, "i8": 300, "tags": ["x"], "ref": {"type": "album", "id": 1}, "refs": [{"type": "label", "id": 7}]}}`},
}

// payloadSerializers are the three built-in serializers, each configured
// as the tests configure them, by name.
func payloadSerializers() []struct {
	name string
	ser  recstore.Serializer
} {
	transforms := map[string]recstore.Transform{"fahrenheit": fahrenheit{}}
	rest := seedSerializer()
	rest.Transforms = transforms
	return []struct {
		name string
		ser  recstore.Serializer
	}{
		{"JSONAPI", &recstore.JSONAPISerializer{Transforms: transforms}},
		{"REST", rest},
		{"JSON", &recstore.JSONSerializer{Transforms: transforms}},
	}
}

// newPayloadStore returns a Store with every test model registered, ser as
// its serializer, and base pushed, so that "unchanged" means something.
func newPayloadStore(t *testing.T, ser recstore.Serializer) *recstore.Store {
	t.Helper()
	opts := fuzzOptions()
	opts.Serializer = ser
	s, _, _, _, _ := newStore(t, opts)
	recstore.MustRegister[Post](s, nil)
	recstore.MustRegister[Comment](s, nil)
	recstore.MustRegister[Person](s, nil)
	recstore.MustRegister[GithubHandle](s, nil)
	recstore.MustRegister[Coerced](s, nil)
	_, err := s.Push(base)
	require.NoError(t, err)
	return s
}

func FuzzPushPayload(f *testing.F) {
	for _, seed := range payloadSeeds {
		f.Add(seed.typ, []byte(seed.payload))
	}
	sers := payloadSerializers()
	f.Fuzz(func(t *testing.T, typIdx byte, payload []byte) {
		typ := payloadTypes[int(typIdx)%len(payloadTypes)]
		want := []error{recstore.ErrInvalidDocument}
		if typ == "nope" {
			// An unknown typ is the caller's mistake, not the payload's.
			want = []error{recstore.ErrUnknownType}
		}
		for _, ser := range sers {
			t.Run(ser.name, func(t *testing.T) {
				s := newPayloadStore(t, ser.ser)
				checkPushContract(t, s, func() ([]recstore.Key, error) { return s.PushPayload(typ, payload) }, want...)
			})
		}
	})
}

// FuzzPushVsPushPayload pushes the same JSON:API document into two stores
// with the same models: through Push, and through PushPayload with a
// JSONAPISerializer that maps no names. Both must fail or both succeed,
// and on success hold the same state, except where serializers differ
// from Push on purpose:
//   - serializers coerce values as Ember Data's transforms do, so a value
//     Push rejects (ErrInvalidAttribute) may be pushed through PushPayload;
//   - the serializer skips included resources of unknown types, which
//     fail a Push;
//   - the date transform reads numbers as milliseconds, Push as seconds,
//     so documents with a number for a time attribute are left out.
func FuzzPushVsPushPayload(f *testing.F) {
	for _, seed := range pushSeeds {
		f.Add([]byte(seed))
	}
	for _, tt := range badDocs {
		f.Add([]byte(tt.doc))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		if hasNumericTime(doc) {
			return
		}
		s1, _, _, _, _ := newStore(t, fuzzOptions())
		opts := fuzzOptions()
		opts.Serializer = identityJSONAPI()
		s2, _, _, _, _ := newStore(t, opts)
		for _, s := range []*recstore.Store{s1, s2} {
			_, err := s.Push(base)
			require.NoError(t, err)
		}
		before := recstore.Dump(s2)
		var de *recstore.DocumentError
		_, pushErr := s1.Push(doc)
		_, payloadErr := s2.PushPayload("", doc)
		switch {
		case pushErr != nil && payloadErr != nil:
			require.ErrorIs(t, payloadErr, recstore.ErrInvalidDocument)
			requireUnchanged(t, s2, before)
			if errors.Is(pushErr, recstore.ErrDuplicateMember) {
				// One rule for repeated names, pointing at the same member.
				require.ErrorIs(t, payloadErr, recstore.ErrDuplicateMember)
				var pe *recstore.DocumentError
				require.True(t, errors.As(pushErr, &de) && errors.As(payloadErr, &pe))
				require.Equal(t, de.Pointer, pe.Pointer)
			}
		case pushErr != nil && errors.Is(pushErr, recstore.ErrInvalidAttribute):
			// Coerced by the serializer, rejected by Push: intended.
		case pushErr != nil && errors.Is(pushErr, recstore.ErrUnknownType) && errors.As(pushErr, &de) && strings.HasPrefix(de.Pointer, "/included/"):
			// Skipped by the serializer, rejected by Push: intended.
		case pushErr != nil:
			t.Fatalf("Push failed (%v) but PushPayload succeeded", pushErr)
		case payloadErr != nil:
			t.Fatalf("Push succeeded but PushPayload failed: %v", payloadErr)
		default:
			d1, r1 := storeState(s1)
			d2, r2 := storeState(s2)
			require.Equal(t, d1, d2, "Push and PushPayload left different states")
			require.Equal(t, r1, r2, "Push and PushPayload left different records")
		}
	})
}

// numericTime finds a time attribute of the Kinds model given a number.
var numericTime = regexp.MustCompile(`"p?t"\s*:\s*-?[0-9]`)

func hasNumericTime(doc []byte) bool { return numericTime.Match(doc) }
