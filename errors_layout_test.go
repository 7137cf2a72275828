package recstore_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// parseRoot parses the root package's non-test files, comments included.
func parseRoot(t *testing.T) map[string]*ast.File {
	t.Helper()
	return parseDir(t, ".")
}

// parseDir parses the non-test files of the package in dir, comments
// included, keyed by file name.
func parseDir(t *testing.T, dir string) map[string]*ast.File {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*.go"))
	require.NoError(t, err)
	files := map[string]*ast.File{}
	fset := token.NewFileSet()
	for _, path := range names {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
		require.NoError(t, err, path)
		files[filepath.Base(path)] = f
	}
	return files
}

// Every sentinel (an exported var named Err...) and every exported error
// type (named ...Error), with its methods, is declared in errors.go, as
// STYLE.md §3.6 says.
func TestLayout_ErrorsInErrorsGo(t *testing.T) {
	elsewhere := map[string]string{}
	for name, f := range parseRoot(t) {
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok {
				if recv := recvName(fd); ast.IsExported(recv) && strings.HasSuffix(recv, "Error") && name != "errors.go" {
					elsewhere[recv+"."+fd.Name.Name] = name
				}
				continue
			}
			g, ok := d.(*ast.GenDecl)
			if !ok {
				continue
			}
			for _, spec := range g.Specs {
				switch sp := spec.(type) {
				case *ast.ValueSpec:
					for _, id := range sp.Names {
						if g.Tok == token.VAR && id.IsExported() && strings.HasPrefix(id.Name, "Err") && name != "errors.go" {
							elsewhere[id.Name] = name
						}
					}
				case *ast.TypeSpec:
					if sp.Name.IsExported() && strings.HasSuffix(sp.Name.Name, "Error") && name != "errors.go" {
						elsewhere[sp.Name.Name] = name
					}
				}
			}
		}
	}
	assert.Empty(t, elsewhere, "errors declared outside errors.go (name: file)")
}

// Every exported field of an exported struct, and every method of an
// exported interface of more than one, in the root package and in
// recstoretest has a doc comment, above it or at the end of its line.
// Embedded fields and embedded interfaces need none.
func TestLayout_FieldDocs(t *testing.T) {
	var missing []string
	for _, dir := range []string{".", "recstoretest"} {
		for name, f := range parseDir(t, dir) {
			for _, d := range f.Decls {
				g, ok := d.(*ast.GenDecl)
				if !ok || g.Tok != token.TYPE {
					continue
				}
				for _, spec := range g.Specs {
					ts := spec.(*ast.TypeSpec)
					if !ts.Name.IsExported() {
						continue
					}
					var fields *ast.FieldList
					switch tt := ts.Type.(type) {
					case *ast.StructType:
						fields = tt.Fields
					case *ast.InterfaceType:
						// A one-method interface's doc is its method's,
						// whatever interfaces it embeds.
						named := 0
						for _, m := range tt.Methods.List {
							named += len(m.Names)
						}
						if named > 1 {
							fields = tt.Methods
						}
					}
					if fields == nil {
						continue
					}
					for _, fl := range fields.List {
						if fl.Doc != nil || fl.Comment != nil {
							continue
						}
						for _, id := range fl.Names {
							if id.IsExported() {
								missing = append(missing, filepath.Join(dir, name)+": "+ts.Name.Name+"."+id.Name)
							}
						}
					}
				}
			}
		}
	}
	slices.Sort(missing)
	assert.Empty(t, missing, "exported fields and interface methods without a doc comment")
}

// Every exported name declared at top level in the root package and in
// recstoretest (a func, a method of an exported type, a type, a var or
// const) has a doc comment. A var or const may share its group's comment;
// a type or func needs its own.
func TestLayout_ExportedDocs(t *testing.T) {
	var missing []string
	for _, dir := range []string{".", "recstoretest"} {
		for name, f := range parseDir(t, dir) {
			file := filepath.Join(dir, name)
			for _, d := range f.Decls {
				switch d := d.(type) {
				case *ast.FuncDecl:
					if !d.Name.IsExported() || d.Doc != nil {
						continue
					}
					if d.Recv == nil {
						missing = append(missing, file+": "+d.Name.Name)
					} else if recv := recvName(d); ast.IsExported(recv) {
						missing = append(missing, file+": "+recv+"."+d.Name.Name)
					}
				case *ast.GenDecl:
					for _, spec := range d.Specs {
						switch sp := spec.(type) {
						case *ast.TypeSpec:
							if sp.Name.IsExported() && sp.Doc == nil && (d.Doc == nil || d.Lparen.IsValid()) {
								missing = append(missing, file+": "+sp.Name.Name)
							}
						case *ast.ValueSpec:
							if sp.Doc != nil || sp.Comment != nil || d.Doc != nil {
								continue
							}
							for _, id := range sp.Names {
								if id.IsExported() {
									missing = append(missing, file+": "+id.Name)
								}
							}
						}
					}
				}
			}
		}
	}
	slices.Sort(missing)
	assert.Empty(t, missing, "exported names without a doc comment")
}

// recvName returns the name of fd's receiver type, or "" for a function.
func recvName(fd *ast.FuncDecl) string {
	if fd.Recv == nil || len(fd.Recv.List) == 0 {
		return ""
	}
	typ := fd.Recv.List[0].Type
	if st, ok := typ.(*ast.StarExpr); ok {
		typ = st.X
	}
	switch tt := typ.(type) {
	case *ast.IndexExpr:
		typ = tt.X
	case *ast.IndexListExpr:
		typ = tt.X
	}
	if id, ok := typ.(*ast.Ident); ok {
		return id.Name
	}
	return ""
}
