package recstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/netip"
	"reflect"
	"slices"
	"unsafe"
)

// A cloner replaces the value at p, a plain copy of a stored value of the
// type it was made for, with a deep copy that shares no mutable memory with
// the Store. Reads run it on the caller's own copy.
type cloner func(p unsafe.Pointer)

// immutable reports whether t's values share no mutable memory although
// they hold pointers: time.Time's *Location and netip's interned zone
// names are never changed once made.
func immutable(t reflect.Type) bool {
	switch t {
	case timeType, reflect.TypeFor[netip.Addr](), reflect.TypeFor[netip.AddrPort](), reflect.TypeFor[netip.Prefix]():
		return true
	}
	return false
}

var (
	anyType      = reflect.TypeFor[any]()
	anySliceType = reflect.TypeFor[[]any]()
	anyMapType   = reflect.TypeFor[map[string]any]()
	bigIntType   = reflect.TypeFor[big.Int]()
	bigFloatType = reflect.TypeFor[big.Float]()
	bigRatType   = reflect.TypeFor[big.Rat]()
)

// clonerFor returns how to deep-copy values of t: nil when a plain copy
// already shares nothing mutable, or an error when t holds state a copy
// would share and that the Store cannot copy.
//
// The rule: strings, numbers, booleans and the types immutable names
// are copied as they are; big.Int, big.Float and big.Rat are copied with
// their own Set or Copy method; any other type holding pointers whose value
// or pointer has a method Clone() T or Clone() *T (or else Copy() T or
// Copy() *T) is copied through it;
// pointers, slices, maps, arrays, empty interfaces and the exported fields
// of structs are copied element by element. A struct field that is
// unexported (and not an embedded struct) and holds pointers, slices, maps,
// interfaces, funcs or channels is hidden state the Store cannot copy, so
// the type is refused.
func clonerFor(t reflect.Type) (cloner, error) {
	b := &clonerBuilder{memo: map[reflect.Type]*memoCloner{}}
	return b.build(t)
}

type clonerBuilder struct {
	// memo holds the cloner of each type built or being built.
	memo map[reflect.Type]*memoCloner
}

type memoCloner struct {
	c    cloner
	done bool
}

func (b *clonerBuilder) build(t reflect.Type) (cloner, error) {
	if m, ok := b.memo[t]; ok {
		if m.done {
			return m.c, nil
		}
		// Recursive: t reaches itself through a pointer, slice or map,
		// so its values hold memory to copy, with the cloner still
		// being built.
		return func(p unsafe.Pointer) {
			if m.c != nil {
				m.c(p)
			}
		}, nil
	}
	m := new(memoCloner)
	b.memo[t] = m
	c, err := b.make(t)
	if err != nil {
		delete(b.memo, t)
		return nil, err
	}
	m.c, m.done = c, true
	return c, nil
}

func (b *clonerBuilder) make(t reflect.Type) (cloner, error) {
	switch {
	case !hasPointers(t), t.Kind() == reflect.String, immutable(t):
		return nil, nil
	case t == bigIntType:
		return cloneBigInt, nil
	case t == bigFloatType:
		return func(p unsafe.Pointer) {
			x := (*big.Float)(p)
			*x = *new(big.Float).Copy(x)
		}, nil
	case t == bigRatType:
		return func(p unsafe.Pointer) {
			// Set gives a zero Rat a denominator of 1; a zero value
			// shares nothing, and its copy should equal it.
			if x := (*big.Rat)(p); !reflect.ValueOf(x).Elem().IsZero() {
				*x = *new(big.Rat).Set(x)
			}
		}, nil
	case t == anyType:
		return func(p unsafe.Pointer) {
			v := (*any)(p)
			*v = cloneJSON(*v)
		}, nil
	case t == anySliceType:
		return func(p unsafe.Pointer) {
			v := (*[]any)(p)
			*v = cloneJSONSlice(*v)
		}, nil
	case t == anyMapType:
		return func(p unsafe.Pointer) {
			v := (*map[string]any)(p)
			*v = cloneJSONMap(*v)
		}, nil
	}
	if c := cloneMethod(t); c != nil {
		return c, nil
	}
	switch t.Kind() {
	case reflect.Pointer:
		elem := t.Elem()
		ec, err := b.build(elem)
		if err != nil {
			return nil, err
		}
		return func(p unsafe.Pointer) {
			old := *(*unsafe.Pointer)(p)
			if old == nil {
				return
			}
			n := reflect.New(elem)
			n.Elem().Set(reflect.NewAt(elem, old).Elem())
			if ec != nil {
				ec(n.UnsafePointer())
			}
			*(*unsafe.Pointer)(p) = n.UnsafePointer()
		}, nil
	case reflect.Slice:
		elem := t.Elem()
		ec, err := b.build(elem)
		if err != nil {
			return nil, err
		}
		size := elem.Size()
		return func(p unsafe.Pointer) {
			v := reflect.NewAt(t, p).Elem()
			if v.IsNil() {
				return
			}
			n := reflect.MakeSlice(t, v.Len(), v.Len())
			reflect.Copy(n, v)
			if ec != nil {
				base := n.UnsafePointer()
				for i := range n.Len() {
					ec(unsafe.Add(base, uintptr(i)*size))
				}
			}
			v.Set(n)
		}, nil
	case reflect.Array:
		ec, err := b.build(t.Elem())
		if err != nil || ec == nil {
			return nil, err
		}
		size, n := t.Elem().Size(), t.Len()
		return func(p unsafe.Pointer) {
			for i := range n {
				ec(unsafe.Add(p, uintptr(i)*size))
			}
		}, nil
	case reflect.Map:
		if kc, err := b.build(t.Key()); err != nil || kc != nil {
			return nil, errors.New("map keys of type " + t.Key().String() + " hold memory a copy would share")
		}
		ec, err := b.build(t.Elem())
		if err != nil {
			return nil, err
		}
		return func(p unsafe.Pointer) {
			v := reflect.NewAt(t, p).Elem()
			if v.IsNil() {
				return
			}
			n := reflect.MakeMapWithSize(t, v.Len())
			k, e := reflect.New(t.Key()).Elem(), reflect.New(t.Elem()).Elem()
			for it := v.MapRange(); it.Next(); {
				k.SetIterKey(it)
				e.SetIterValue(it)
				if ec != nil {
					ec(e.Addr().UnsafePointer())
				}
				n.SetMapIndex(k, e)
			}
			v.Set(n)
		}, nil
	case reflect.Interface:
		if t.NumMethod() != 0 {
			return nil, errors.New(t.String() + " is an interface a copy would share")
		}
		// An empty interface in a struct decoded by encoding/json.
		return func(p unsafe.Pointer) {
			v := (*any)(p)
			*v = cloneJSON(*v)
		}, nil
	case reflect.Struct:
		type field struct {
			off uintptr
			c   cloner
		}
		var fields []field
		for i := range t.NumField() {
			f := t.Field(i)
			c, err := b.build(f.Type)
			switch {
			case err != nil && f.IsExported():
				return nil, fmt.Errorf("%s.%s: %w", t, f.Name, err)
			case c == nil && err == nil:
				continue
			case !f.IsExported() && !(f.Anonymous && f.Type.Kind() == reflect.Struct):
				return nil, fmt.Errorf("%s has unexported field %s (%s), which a copy would share; "+
					"give %s a method Clone() %s", t, f.Name, f.Type, t.Name(), t.Name())
			case err != nil:
				return nil, err
			}
			fields = append(fields, field{f.Offset, c})
		}
		if len(fields) == 0 {
			return nil, nil
		}
		return func(p unsafe.Pointer) {
			for _, f := range fields {
				f.c(unsafe.Add(p, f.off))
			}
		}, nil
	}
	return nil, errors.New(t.String() + " is a " + t.Kind().String() + ", which a copy would share")
}

// cloneMethod returns a cloner that calls t's method Clone() t or
// Clone() *t, or else Copy() t or Copy() *t (the name some decimal and
// money types use), or nil if t has none of them.
func cloneMethod(t reflect.Type) cloner {
	if c := cloneMethodNamed(t, "Clone"); c != nil {
		return c
	}
	return cloneMethodNamed(t, "Copy")
}

func cloneMethodNamed(t reflect.Type, name string) cloner {
	if t.Kind() == reflect.Interface || t.Kind() == reflect.Pointer {
		return nil
	}
	pt := reflect.PointerTo(t)
	m, ok := pt.MethodByName(name)
	if !ok || m.Type.NumIn() != 1 || m.Type.NumOut() != 1 {
		return nil
	}
	switch m.Type.Out(0) {
	case t:
		return func(p unsafe.Pointer) {
			out := m.Func.Call([]reflect.Value{reflect.NewAt(t, p)})[0]
			reflect.NewAt(t, p).Elem().Set(out)
		}
	case pt:
		return func(p unsafe.Pointer) {
			out := m.Func.Call([]reflect.Value{reflect.NewAt(t, p)})[0]
			if out.IsNil() {
				reflect.NewAt(t, p).Elem().SetZero()
				return
			}
			reflect.NewAt(t, p).Elem().Set(out.Elem())
		}
	}
	return nil
}

// cloneBigInt copies a big.Int into words of its own, with no spare
// capacity: Set would add some, and a slice of them would cost it each.
func cloneBigInt(p unsafe.Pointer) {
	x := (*big.Int)(p)
	neg := x.Sign() < 0
	var n big.Int
	n.SetBits(slices.Clone(x.Bits()))
	if neg {
		n.Neg(&n)
	}
	*x = n
}

// cloneJSON deep-copies a value encoding/json (or decodeAny) decoded into
// an empty interface. Its maps and slices are copied; its strings,
// float64s, booleans and json.Numbers are immutable once boxed, so the
// copy shares them. A value of any other type, which only a custom
// UnmarshalJSON can put there, is copied by its own type's rule, or kept
// as it is when that rule refuses the type.
func cloneJSON(v any) any {
	switch v := v.(type) {
	case nil, string, float64, bool, json.Number:
		return v
	case map[string]any:
		return cloneJSONMap(v)
	case []any:
		return cloneJSONSlice(v)
	}
	rv := reflect.ValueOf(v)
	c, err := clonerFor(rv.Type())
	if err != nil || c == nil {
		return v
	}
	n := reflect.New(rv.Type())
	n.Elem().Set(rv)
	c(n.UnsafePointer())
	return n.Elem().Interface()
}

func cloneJSONSlice(s []any) []any {
	if s == nil {
		return nil
	}
	n := make([]any, len(s))
	for i, v := range s {
		n[i] = cloneJSON(v)
	}
	return n
}

func cloneJSONMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	n := make(map[string]any, len(m))
	for k, v := range m {
		n[k] = cloneJSON(v)
	}
	return n
}
