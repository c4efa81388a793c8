package mutate

import (
	"go/ast"
	"go/types"
	"strings"
)

// returns makes the two mutants of a return statement of a function of
// type ft: the error it returns becomes nil (OpNilError), and the values
// before the error become their zero values (OpZero). A return of one call
// that gives every result becomes zero values and a nil error. A bare
// return is left alone.
func (g *gen) returns(r *ast.ReturnStmt, ft *ast.FuncType) []candidate {
	results := resultTypes(ft)
	if len(r.Results) == 0 || len(results) == 0 {
		return nil
	}
	errLast := g.isError(results[len(results)-1])
	if len(r.Results) != len(results) { // return f(), f giving all the results
		if !errLast {
			return nil
		}
		return []candidate{g.replace(OpNilError, r.Results[0].Pos(), r.Results[0].End(), g.zeros(results, true))}
	}
	var out []candidate
	if last := r.Results[len(r.Results)-1]; errLast && !isNil(last) {
		out = append(out, g.replace(OpNilError, last.Pos(), last.End(), "nil"))
	}
	values := r.Results
	if errLast {
		values = values[:len(values)-1]
	}
	if len(values) > 0 {
		zeros := g.zeros(results[:len(values)], false)
		if zeros != g.joined(values) {
			out = append(out, g.replace(OpZero, values[0].Pos(), values[len(values)-1].End(), zeros))
		}
	}
	return out
}

// resultTypes lists the type of each result, a field "a, b int" counting twice.
func resultTypes(ft *ast.FuncType) []ast.Expr {
	if ft.Results == nil {
		return nil
	}
	var out []ast.Expr
	for _, f := range ft.Results.List {
		for range max(len(f.Names), 1) {
			out = append(out, f.Type)
		}
	}
	return out
}

func isNil(e ast.Expr) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == "nil"
}

// joined is the source of exprs as a return lists them.
func (g *gen) joined(exprs []ast.Expr) string {
	var parts []string
	for _, e := range exprs {
		parts = append(parts, g.text(e))
	}
	return strings.Join(parts, ", ")
}

// zeros spells the zero value of each type, the last one nil when nilErr.
func (g *gen) zeros(ts []ast.Expr, nilErr bool) string {
	var parts []string
	for i, t := range ts {
		if nilErr && i == len(ts)-1 {
			parts = append(parts, "nil")
			continue
		}
		parts = append(parts, g.zero(t))
	}
	return strings.Join(parts, ", ")
}

// isError says whether type expression t is the built-in error.
func (g *gen) isError(t ast.Expr) bool {
	if g.info != nil {
		if tt := g.info.TypeOf(t); tt != nil {
			return types.Identical(tt, types.Universe.Lookup("error").Type())
		}
	}
	id, ok := t.(*ast.Ident)
	return ok && id.Name == "error"
}

// zero spells the zero value of type expression t: from its underlying
// type when types are known, from its syntax otherwise (a name that is not
// predeclared is taken for a struct).
func (g *gen) zero(t ast.Expr) string {
	if g.info != nil {
		if tt := g.info.TypeOf(t); tt != nil {
			return zeroOf(tt.Underlying(), g.text(t))
		}
	}
	switch t := t.(type) {
	case *ast.StarExpr, *ast.MapType, *ast.ChanType, *ast.FuncType, *ast.InterfaceType:
		return "nil"
	case *ast.ArrayType:
		if t.Len == nil {
			return "nil"
		}
	case *ast.Ident:
		if obj := types.Universe.Lookup(t.Name); obj != nil {
			return zeroOf(obj.Type().Underlying(), t.Name)
		}
	}
	return g.text(t) + "{}"
}

// zeroOf spells the zero value of a type whose underlying type is u and
// whose source is spelled.
func zeroOf(u types.Type, spelled string) string {
	switch u := u.(type) {
	case *types.Basic:
		switch {
		case u.Info()&types.IsBoolean != 0:
			return "false"
		case u.Info()&types.IsString != 0:
			return `""`
		case u.Info()&types.IsNumeric != 0:
			return "0"
		}
		return "nil" // unsafe.Pointer
	case *types.Struct, *types.Array:
		return spelled + "{}"
	}
	return "nil"
}
