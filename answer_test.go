package recstore_test

import (
	"context"
	"net/url"
	"sync/atomic"
	"testing"

	"github.com/recstore/recstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// answerAdapter answers FindRecord and QueryRecord with payload.
type answerAdapter struct{ payload string }

func (a *answerAdapter) FindRecord(ctx context.Context, req *recstore.Request) ([]byte, error) {
	return []byte(a.payload), nil
}

func (a *answerAdapter) QueryRecord(ctx context.Context, req *recstore.Request) ([]byte, error) {
	return []byte(a.payload), nil
}

// answerStore returns a Store whose albums come from a, read by ser (nil
// for the default JSON:API serializer), holding base so that "unchanged"
// means something.
func answerStore(t *testing.T, a *answerAdapter, ser recstore.Serializer) (*recstore.Store, *recstore.Model[Album]) {
	t.Helper()
	s, albums := findStore(t, a, &recstore.Options{Serializer: ser})
	recstore.MustRegister[Kinds](s, nil)
	_, err := s.Push(base)
	require.NoError(t, err)
	return s, albums
}

// A Find answer must hold the one record asked for as its primary data:
// an array, even of that record, is a wrong answer and pushes nothing, as
// in Ember Data. A REST answer may be an array that holds it.
func TestModel_Find_answerShape(t *testing.T) {
	const album5 = `{"type": "albums", "id": "5", "attributes": {"title": "five"}}`
	tests := []struct {
		name    string
		ser     recstore.Serializer
		payload string
		want    string // the title found, when the answer is right
		wantErr error
		reason  string
	}{
		{name: "one resource", payload: `{"data": ` + album5 + `}`, want: "five"},
		{name: "an array of the record", payload: `{"data": [` + album5 + `]}`, wantErr: recstore.ErrBadResponse,
			reason: "Ember asserts on an array for findRecord"},
		{name: "an array of the record with included", payload: `{"data": [` + album5 + `], "included": [{"type": "labels", "id": "8"}]}`,
			wantErr: recstore.ErrBadResponse, reason: "nothing of a wrong answer is pushed"},
		{name: "an empty array", payload: `{"data": []}`, wantErr: recstore.ErrBadResponse},
		{name: "an array of two", payload: `{"data": [` + album5 + `, {"type": "albums", "id": "6"}]}`, wantErr: recstore.ErrBadResponse},
		{name: "null", payload: `{"data": null}`, wantErr: recstore.ErrNotFound},
		{name: "another record", payload: `{"data": {"type": "albums", "id": "6"}}`, wantErr: recstore.ErrWrongRecord},
		{name: "JSON serializer, one hash", ser: &recstore.JSONSerializer{}, payload: `{"id": 5, "title": "five"}`, want: "five"},
		{name: "JSON serializer, an array of the hash", ser: &recstore.JSONSerializer{}, payload: `[{"id": 5, "title": "five"}]`,
			wantErr: recstore.ErrBadResponse},
		{name: "REST, one record", ser: &recstore.RESTSerializer{}, payload: `{"album": {"id": 5, "title": "five"}}`, want: "five"},
		{name: "REST, an array of the record", ser: &recstore.RESTSerializer{}, payload: `{"albums": [{"id": 5, "title": "five"}]}`, want: "five",
			reason: "Ember's RESTSerializer takes the record asked for from the array"},
		{name: "REST, an array without the record", ser: &recstore.RESTSerializer{}, payload: `{"albums": [{"id": 6}]}`, wantErr: recstore.ErrWrongRecord},
		{name: "REST, an empty array", ser: &recstore.RESTSerializer{}, payload: `{"albums": []}`, wantErr: recstore.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, albums := answerStore(t, &answerAdapter{payload: tt.payload}, tt.ser)
			before := recstore.Dump(s)
			a, err := albums.Find(context.Background(), "5", noBackground)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr, "answer %s: %s", tt.payload, tt.reason)
				var ae *recstore.AdapterError
				require.ErrorAs(t, err, &ae)
				assert.Equal(t, "FindRecord", ae.Op)
				requireUnchanged(t, s, before)
				return
			}
			require.NoError(t, err, "answer %s: %s", tt.payload, tt.reason)
			assert.Equal(t, tt.want, a.Title)
		})
	}
}

// A QueryRecord answer holds one record or null. An array, even of one
// record, is a wrong answer and pushes nothing, as Ember Data asserts; a
// REST answer's array gives its first record, as Ember's RESTSerializer
// does. null is told apart from a 404 by ErrNoMatch.
func TestModel_QueryRecord_answerShape(t *testing.T) {
	const album5 = `{"type": "albums", "id": "5", "attributes": {"title": "five"}}`
	tests := []struct {
		name      string
		ser       recstore.Serializer
		payload   string
		want      string   // the id answered, when the answer is right
		sideloads []string // other albums the answer pushes
		wantErr   error
		reason    string
	}{
		{name: "one resource", payload: `{"data": ` + album5 + `}`, want: "5"},
		{name: "an array of one", payload: `{"data": [` + album5 + `]}`, wantErr: recstore.ErrBadResponse,
			reason: "Ember asserts on an array for queryRecord"},
		{name: "an array of two", payload: `{"data": [` + album5 + `, {"type": "albums", "id": "6"}]}`, wantErr: recstore.ErrBadResponse},
		{name: "an empty array", payload: `{"data": []}`, wantErr: recstore.ErrBadResponse},
		{name: "null", payload: `{"data": null}`, wantErr: recstore.ErrNotFound},
		{name: "null with included", payload: `{"data": null, "included": [{"type": "labels", "id": "8"}]}`, wantErr: recstore.ErrNotFound,
			reason: "nothing of an answer with no record is pushed"},
		{name: "REST, one record", ser: &recstore.RESTSerializer{}, payload: `{"album": {"id": 5}}`, want: "5"},
		{name: "REST, an array", ser: &recstore.RESTSerializer{}, payload: `{"albums": [{"id": 5}, {"id": 6}]}`, want: "5", sideloads: []string{"6"},
			reason: "Ember's RESTSerializer takes the first record and sideloads the rest"},
		{name: "REST, an empty array", ser: &recstore.RESTSerializer{}, payload: `{"albums": []}`, wantErr: recstore.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, albums := answerStore(t, &answerAdapter{payload: tt.payload}, tt.ser)
			before := recstore.Dump(s)
			a, err := albums.QueryRecord(context.Background(), url.Values{"q": {"x"}})
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr, "answer %s: %s", tt.payload, tt.reason)
				requireUnchanged(t, s, before)
				return
			}
			require.NoError(t, err, "answer %s: %s", tt.payload, tt.reason)
			assert.Equal(t, tt.want, a.ID)
			for _, id := range tt.sideloads {
				assert.True(t, albums.Has(id), "album %s was sideloaded", id)
			}
			k, err := s.QueryRecord(context.Background(), "album", nil)
			require.NoError(t, err)
			assert.Equal(t, recstore.Key{Type: "album", ID: tt.want}, k, "the Store's QueryRecord answers alike")
		})
	}
}

// embeddedREST is a serializer that embeds a RESTSerializer, as a user's
// wrapper adding logging or a hook would.
type embeddedREST struct{ *recstore.RESTSerializer }

// overridingREST embeds a RESTSerializer and overrides its Normalize,
// returning the RESTSerializer's Document after a look at the payload.
type overridingREST struct {
	*recstore.RESTSerializer
	calls *atomic.Int64
}

func (o overridingREST) Normalize(s *recstore.Store, typ string, payload []byte) (*recstore.Document, error) {
	o.calls.Add(1)
	return o.RESTSerializer.Normalize(s, typ, payload)
}

// Whether an array may answer a Find or a QueryRecord follows from the
// Document a RESTSerializer made, not from the serializer's Go type: a
// RESTSerializer embedded in another type or wrapped in a SerializerFunc
// keeps Ember's RESTSerializer rule, and JSON:API and JSON answers with
// an array stay wrong answers, also behind a SerializerFunc.
func TestFindAndQueryRecord_wrappedSerializers(t *testing.T) {
	rest := &recstore.RESTSerializer{}
	jsonapi := &recstore.JSONAPISerializer{}
	json := &recstore.JSONSerializer{}
	const (
		restArray    = `{"albums": [{"id": "5", "title": "a"}, {"id": "6", "title": "b"}]}`
		jsonapiArray = `{"data": [{"type": "albums", "id": "5", "attributes": {"title": "a"}}]}`
		jsonArray    = `[{"id": "5", "title": "a"}]`
	)
	type test struct {
		name    string
		ser     recstore.Serializer
		payload string
		wantErr error
		reason  string
	}
	// cases gives each op its own serializers, so that the override's
	// count is that op's.
	cases := func() []test {
		return []test{
			{name: "plain REST", ser: rest, payload: restArray},
			{name: "embedded REST", ser: embeddedREST{rest}, payload: restArray,
				reason: "a type embedding a RESTSerializer reads REST answers"},
			{name: "REST with its Normalize overridden", ser: overridingREST{rest, new(atomic.Int64)}, payload: restArray,
				reason: "the override returns the RESTSerializer's Document"},
			{name: "SerializerFunc of REST", ser: recstore.SerializerFunc(rest.Normalize), payload: restArray,
				reason: "the RESTSerializer's Document says it is REST"},
			{name: "JSON:API", ser: jsonapi, payload: jsonapiArray, wantErr: recstore.ErrBadResponse},
			{name: "SerializerFunc of JSON:API", ser: recstore.SerializerFunc(jsonapi.Normalize), payload: jsonapiArray,
				wantErr: recstore.ErrBadResponse},
			{name: "JSON", ser: json, payload: jsonArray, wantErr: recstore.ErrBadResponse},
			{name: "SerializerFunc of JSON", ser: recstore.SerializerFunc(json.Normalize), payload: jsonArray,
				wantErr: recstore.ErrBadResponse},
			{name: "a Document made by hand", payload: restArray, wantErr: recstore.ErrBadResponse,
				ser: recstore.SerializerFunc(func(*recstore.Store, string, []byte) (*recstore.Document, error) {
					return &recstore.Document{Many: true, Data: []*recstore.Resource{{Type: "album", ID: "5"}}}, nil
				}),
				reason: "only a RESTSerializer's Document may answer with an array"},
		}
	}
	for _, op := range []string{"Find", "QueryRecord"} {
		for _, tt := range cases() {
			t.Run(op+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				s, albums := answerStore(t, &answerAdapter{payload: tt.payload}, tt.ser)
				before := recstore.Dump(s)
				var a Album
				var err error
				if op == "Find" {
					a, err = albums.Find(context.Background(), "5", noBackground)
				} else {
					a, err = albums.QueryRecord(context.Background(), url.Values{"q": {"x"}})
				}
				if tt.wantErr != nil {
					require.ErrorIs(t, err, tt.wantErr, "%s of %s with %T: %s", op, tt.payload, tt.ser, tt.reason)
					requireUnchanged(t, s, before)
					return
				}
				require.NoError(t, err, "%s of %s with %T: %s", op, tt.payload, tt.ser, tt.reason)
				assert.Equal(t, Album{ID: "5", Title: "a"}, a, "%s of %s with %T", op, tt.payload, tt.ser)
				assert.True(t, albums.Has("6"), "%s with %T: the other record is a sideload", op, tt.ser)
				if o, ok := tt.ser.(overridingREST); ok {
					assert.Equal(t, int64(1), o.calls.Load(), "the override's Normalize read the answer")
				}
			})
		}
	}
}
