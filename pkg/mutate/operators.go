package mutate

import (
	"go/ast"
	"go/token"
	"go/types"
	"strconv"
	"strings"

	"github.com/nslab/nslab/pkg/starter"
)

// gen makes the candidates of one region.
type gen struct {
	fset   *token.FileSet
	src    []byte
	info   *types.Info
	region starter.Region
}

// The operator tables: each token becomes the one it maps to.
var (
	negated  = map[token.Token]token.Token{token.EQL: token.NEQ, token.NEQ: token.EQL, token.LSS: token.GEQ, token.GEQ: token.LSS, token.GTR: token.LEQ, token.LEQ: token.GTR}
	shifted  = map[token.Token]token.Token{token.LSS: token.LEQ, token.LEQ: token.LSS, token.GTR: token.GEQ, token.GEQ: token.GTR}
	swapped  = map[token.Token]token.Token{token.ADD: token.SUB, token.SUB: token.ADD, token.MUL: token.QUO, token.QUO: token.MUL, token.AND: token.OR, token.OR: token.AND, token.SHL: token.SHR, token.SHR: token.SHL}
	opTables = []struct {
		op    string
		table map[token.Token]token.Token
	}{{OpNegate, negated}, {OpBoundary, shifted}, {OpArith, swapped}}
)

// walk returns the candidates inside the region of fd's body, in source
// order of the nodes.
func (g *gen) walk(fd *ast.FuncDecl) []candidate {
	var out []candidate
	funcs := []*ast.FuncType{fd.Type} // the enclosing function, innermost last
	var stack []ast.Node
	ast.Inspect(fd.Body, func(n ast.Node) bool {
		if n == nil {
			if _, ok := stack[len(stack)-1].(*ast.FuncLit); ok {
				funcs = funcs[:len(funcs)-1]
			}
			stack = stack[:len(stack)-1]
			return false
		}
		stack = append(stack, n)
		if fl, ok := n.(*ast.FuncLit); ok {
			funcs = append(funcs, fl.Type)
		}
		if g.inRegion(n) {
			out = append(out, g.candidates(n, funcs[len(funcs)-1])...)
		}
		return true
	})
	return out
}

// inRegion says whether n starts strictly between the region's markers.
func (g *gen) inRegion(n ast.Node) bool {
	line := g.fset.Position(n.Pos()).Line
	return line > g.region.Begin && line < g.region.End
}

// candidates are the mutations of node n, in a function of type ft.
func (g *gen) candidates(n ast.Node, ft *ast.FuncType) []candidate {
	switch n := n.(type) {
	case *ast.BinaryExpr:
		return g.binary(n)
	case *ast.UnaryExpr:
		if n.Op == token.NOT {
			return []candidate{g.replace(OpNegate, n.OpPos, n.X.Pos(), "")}
		}
	case *ast.IfStmt:
		return g.negateCond(n.Cond)
	case *ast.ForStmt:
		return g.negateCond(n.Cond)
	case *ast.BasicLit:
		return g.offByOne(n)
	case *ast.BlockStmt:
		return g.removals(n.List)
	case *ast.CaseClause:
		return g.removals(n.Body)
	case *ast.CommClause:
		return g.removals(n.Body)
	case *ast.CallExpr:
		return g.swaps(n)
	case *ast.ReturnStmt:
		return g.returns(n, ft)
	}
	return nil
}

// replace is a candidate that puts text in place of [pos, end).
func (g *gen) replace(op string, pos, end token.Pos, text string) candidate {
	return candidate{op: op, at: pos, edits: []edit{{g.off(pos), g.off(end), text}}}
}

func (g *gen) off(p token.Pos) int { return g.fset.Position(p).Offset }

// text is the source of node n.
func (g *gen) text(n ast.Node) string { return string(g.src[g.off(n.Pos()):g.off(n.End())]) }

func (g *gen) binary(n *ast.BinaryExpr) []candidate {
	var out []candidate
	end := n.OpPos + token.Pos(len(n.Op.String()))
	for _, t := range opTables {
		if to, ok := t.table[n.Op]; ok {
			out = append(out, g.replace(t.op, n.OpPos, end, to.String()))
		}
	}
	return out
}

// negateCond negates a condition that is neither a comparison nor a !x
// (those have their own mutants): ok becomes !ok, a && b becomes !(a && b).
func (g *gen) negateCond(cond ast.Expr) []candidate {
	switch c := cond.(type) {
	case nil:
		return nil
	case *ast.UnaryExpr:
		if c.Op == token.NOT {
			return nil
		}
	case *ast.BinaryExpr:
		if _, ok := negated[c.Op]; ok {
			return nil
		}
		return []candidate{{op: OpNegate, at: c.Pos(), edits: []edit{{g.off(c.Pos()), g.off(c.End()), "!(" + g.text(c) + ")"}}}}
	}
	return []candidate{g.replace(OpNegate, cond.Pos(), cond.Pos(), "!")}
}

// offByOne makes n+1 and n-1 of an integer constant.
func (g *gen) offByOne(lit *ast.BasicLit) []candidate {
	if lit.Kind != token.INT {
		return nil
	}
	v, err := strconv.ParseInt(strings.ReplaceAll(lit.Value, "_", ""), 0, 64)
	if err != nil {
		return nil // too big for an int64: leave it
	}
	return []candidate{
		g.replace(OpConst, lit.Pos(), lit.End(), formatLike(lit.Value, v+1)),
		g.replace(OpConst, lit.Pos(), lit.End(), formatLike(lit.Value, v-1)),
	}
}

// formatLike spells v in the base of literal lit (0o600 gives 0o601, not
// 385), or in decimal when negative.
func formatLike(lit string, v int64) string {
	if v < 0 || len(lit) < 2 || lit[0] != '0' {
		return strconv.FormatInt(v, 10)
	}
	switch lit[1] {
	case 'x', 'X':
		return lit[:2] + strconv.FormatInt(v, 16)
	case 'o', 'O':
		return lit[:2] + strconv.FormatInt(v, 8)
	case 'b', 'B':
		return lit[:2] + strconv.FormatInt(v, 2)
	}
	return "0" + strconv.FormatInt(v, 8) // 0600
}

// removals leave out each expression statement, assignment and ++/-- of
// a statement list.
func (g *gen) removals(list []ast.Stmt) []candidate {
	var out []candidate
	for _, s := range list {
		switch s.(type) {
		case *ast.ExprStmt, *ast.AssignStmt, *ast.IncDecStmt:
			if g.inRegion(s) {
				out = append(out, g.replace(OpRemove, s.Pos(), s.End(), ""))
			}
		}
	}
	return out
}

// swaps exchange every pair of arguments of identical types (and different
// text); without type information there are none.
func (g *gen) swaps(call *ast.CallExpr) []candidate {
	if g.info == nil || call.Ellipsis.IsValid() {
		return nil
	}
	var out []candidate
	for i, a := range call.Args {
		for _, b := range call.Args[i+1:] {
			ta, tb := g.info.TypeOf(a), g.info.TypeOf(b)
			if ta == nil || tb == nil || !types.Identical(ta, tb) || g.text(a) == g.text(b) {
				continue
			}
			out = append(out, candidate{op: OpSwap, at: a.Pos(), edits: []edit{
				{g.off(a.Pos()), g.off(a.End()), g.text(b)},
				{g.off(b.Pos()), g.off(b.End()), g.text(a)},
			}})
		}
	}
	return out
}
