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
	names, err := filepath.Glob("*.go")
	require.NoError(t, err)
	files := map[string]*ast.File{}
	fset := token.NewFileSet()
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ParseComments)
		require.NoError(t, err, name)
		files[name] = f
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

// Every exported field of an exported struct in the files that hold the
// errors, reports and pagination has a doc comment, above it or at the end
// of its line.
func TestLayout_FieldDocs(t *testing.T) {
	var missing []string
	for name, f := range parseRoot(t) {
		if !slices.Contains([]string{"errors.go", "report.go", "page.go", "modeloptions.go"}, name) {
			continue
		}
		ast.Inspect(f, func(n ast.Node) bool {
			ts, ok := n.(*ast.TypeSpec)
			if !ok || !ts.Name.IsExported() {
				return true
			}
			st, ok := ts.Type.(*ast.StructType)
			if !ok {
				return true
			}
			for _, fl := range st.Fields.List {
				if fl.Doc != nil || fl.Comment != nil {
					continue
				}
				for _, id := range fl.Names {
					if id.IsExported() {
						missing = append(missing, name+": "+ts.Name.Name+"."+id.Name)
					}
				}
			}
			return true
		})
	}
	assert.Empty(t, missing, "exported fields without a doc comment")
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
