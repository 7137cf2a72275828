package recstore_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/recstore/recstore"
	"github.com/stretchr/testify/require"
)

// The models most tests share: the seed's album, with a label (to-one, no
// inverse) and tracks (to-many with the inverse track.album).

type Album struct {
	ID        string   `jsonapi:"primary,album"`
	Title     string   `jsonapi:"attr,title"`
	Artist    string   `jsonapi:"attr,artist"`
	SongCount int      `jsonapi:"attr,songCount"`
	Label     *Label   `jsonapi:"relation,label"`
	Tracks    []*Track `jsonapi:"relation,tracks" recstore:"inverse=album"`
}

type Label struct {
	ID   string `jsonapi:"primary,label"`
	Name string `jsonapi:"attr,name"`
}

type Track struct {
	ID    string `jsonapi:"primary,track"`
	Title string `jsonapi:"attr,title"`
	Album *Album `jsonapi:"relation,album"`
}

// Kinds exercises every attribute kind.
type Kinds struct {
	ID     int64          `jsonapi:"primary,kinds"`
	S      string         `jsonapi:"attr,s"`
	B      bool           `jsonapi:"attr,b"`
	I      int            `jsonapi:"attr,i"`
	I8     int8           `jsonapi:"attr,i8"`
	I16    int16          `jsonapi:"attr,i16"`
	I32    int32          `jsonapi:"attr,i32"`
	I64    int64          `jsonapi:"attr,i64"`
	U      uint           `jsonapi:"attr,u"`
	U8     uint8          `jsonapi:"attr,u8"`
	U16    uint16         `jsonapi:"attr,u16"`
	U32    uint32         `jsonapi:"attr,u32"`
	U64    uint64         `jsonapi:"attr,u64"`
	F32    float32        `jsonapi:"attr,f32"`
	F64    float64        `jsonapi:"attr,f64"`
	T      time.Time      `jsonapi:"attr,t,rfc3339"`
	PS     *string        `jsonapi:"attr,ps"`
	PI     *int           `jsonapi:"attr,pi"`
	PT     *time.Time     `jsonapi:"attr,pt,iso8601"`
	Tags   []string       `jsonapi:"attr,tags"`
	Meta   map[string]any `jsonapi:"attr,meta"`
	Nested Point          `jsonapi:"attr,nested"`
	Any    any            `jsonapi:"attr,any"`
	Raw    Celsius        `jsonapi:"attr,raw"`
	Scores map[string]int `jsonapi:"attr,scores"`
	Points []*Point       `jsonapi:"attr,points"`
	Ref    recstore.Key   `jsonapi:"relation,ref"`
	Refs   []recstore.Key `jsonapi:"relation,refs"`
}

type Point struct {
	X, Y int
	Tags []string
}

// Celsius has its own JSON form: a string like "21.5C".
type Celsius float64

func (c *Celsius) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	var f float64
	if _, err := fmt.Sscanf(s, "%gC", &f); err != nil {
		return err
	}
	*c = Celsius(f)
	return nil
}

// newStore returns a Store with Album, Label, Track and Kinds registered.
func newStore(t testing.TB, opts *recstore.Options) (*recstore.Store, *recstore.Model[Album], *recstore.Model[Label], *recstore.Model[Track], *recstore.Model[Kinds]) {
	t.Helper()
	s := recstore.New(opts)
	albums, err := recstore.Register[Album](s, nil)
	require.NoError(t, err)
	labels, err := recstore.Register[Label](s, nil)
	require.NoError(t, err)
	tracks, err := recstore.Register[Track](s, nil)
	require.NoError(t, err)
	kinds, err := recstore.Register[Kinds](s, nil)
	require.NoError(t, err)
	return s, albums, labels, tracks, kinds
}

// requireUnchanged fails unless the Store's whole state equals before, a
// recstore.Dump taken earlier.
func requireUnchanged(t testing.TB, s *recstore.Store, before string) {
	t.Helper()
	require.Equal(t, before, recstore.Dump(s), "the store changed, but the push failed and should have left it as it was")
}
