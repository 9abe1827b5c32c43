//! A fast reader for the text of `graph.nnef`, with tract's own parser behind it.
//!
//! tract-nnef 0.23.9 reads `graph.nnef` with a nom parser whose errors are `VerboseError`s (a
//! vector allocated at each failed alternative) and where each operand goes down nine nested
//! rules, one of which parses it twice (so each level of nesting doubles the work): a visible part
//! of a page's model load (docs/performance.md, "Measurements behind the code").
//! [`parse_document`] reads the same grammar by hand, over bytes, in one pass, and gives the same
//! [`Document`], node for node.
//!
//! "The same" includes tract's quirks, which this reader mirrors rather than fixes: keywords and
//! operators are prefixes, not words (`[ fori in x yield i]`, what tract's dumper writes, loops
//! over `i`; an identifier starting `inf`, `true` or `false` reads as that literal); a `-` sticks
//! to the number after it (`-1` is a literal, `- 1` a unary minus over one); `( )` and `[ ]` are
//! errors where `()` and `[]` are not. What this reader cannot be sure to read as tract does, it
//! leaves to `tract_nnef::ast::parse::parse_document`: syntax errors, the rare text tract reads
//! only after backtracking further than a name (a `[for …` that turns out not to be a
//! comprehension; a `<complex` type, which depends on a tract feature), and nesting deeper than
//! [`MAX_DEPTH`]. Errors and unusual files therefore behave as before.
use tract_nnef::ast::{
    Argument, Assignment, Comprehension, Document, FragmentDecl, FragmentDef, GraphDef, Identifier, IfThenElse,
    Invocation, LValue, Literal, Parameter, RValue, Result_, Subscript, TypeName, TypeSpec,
};
use tract_nnef::internal::TractResult;

/// Nesting (of expressions, lvalues, type specs) beyond which tract's parser takes over: far more
/// than tract's dumper writes, and each level costs a few stack frames here.
const MAX_DEPTH: usize = 100;

/// The document in `text`, exactly as `tract_nnef::ast::parse::parse_document` reads it, errors
/// included (those come from tract's parser).
pub(crate) fn parse_document(text: &str) -> TractResult<Document> {
    match parse_fast(text) {
        Some(doc) => Ok(doc),
        None => tract_nnef::ast::parse::parse_document(text),
    }
}

/// The document in `text`, or `None` when this reader cannot vouch for reading it as tract does.
pub(crate) fn parse_fast(text: &str) -> Option<Document> {
    complete(text, Parser::document)
}

/// The fragment definitions in `text` (a file like NNEF's standard library), or `None` when this
/// reader cannot vouch for reading them as `tract_nnef::ast::parse::parse_fragments` does.
pub(crate) fn parse_fragments_fast(text: &str) -> Option<Vec<FragmentDef>> {
    complete(text, Parser::fragments)
}

/// What `parse` reads from all of `text` (tract's `all_consuming`).
fn complete<'t, T>(text: &'t str, parse: impl FnOnce(&mut Parser<'t>) -> Option<T>) -> Option<T> {
    let mut parser = Parser { text, bytes: text.as_bytes(), pos: 0, depth: 0 };
    parser.ws();
    let parsed = parse(&mut parser)?;
    (parser.pos == parser.bytes.len()).then_some(parsed)
}

/// A cursor over the text. Every rule starts where blanks have been skipped and skips those after
/// what it read (tract's `spaced`/`stag`), and looks ahead (a byte, at most a name) to pick the
/// alternative tract's `alt` would end up with. `None` means "not read": the text goes to tract.
struct Parser<'t> {
    text: &'t str,
    bytes: &'t [u8],
    pos: usize,
    depth: usize,
}

/// tract's binary operators, loosest first: `in`, `||` `&&`, comparisons, `+` `-`, `*` `/`, `^`.
/// Each level is left-associative (tract folds each level's operands left to right).
const OPERATORS: [&[&str]; 6] =
    [&["in"], &["||", "&&"], &["==", "!=", "<=", ">=", "<", ">"], &["+", "-"], &["*", "/"], &["^"]];

/// tract's type names (none is a prefix of another).
const TYPE_NAMES: [(&str, TypeName); 5] = [
    ("integer", TypeName::Integer),
    ("scalar", TypeName::Scalar),
    ("logical", TypeName::Logical),
    ("string", TypeName::String),
    ("?", TypeName::Any),
];

impl<'t> Parser<'t> {
    // ---- bytes and blanks

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn rest(&self) -> &'t [u8] {
        self.bytes.get(self.pos..).unwrap_or_default()
    }

    fn starts_with(&self, token: &str) -> bool {
        self.rest().starts_with(token.as_bytes())
    }

    /// The text from `start` to here, owned. Bounds are always at ASCII bytes; `get` keeps that
    /// from being a panic if it ever were not.
    fn since(&self, start: usize) -> Option<String> {
        self.text.get(start..self.pos).map(str::to_owned)
    }

    /// Spaces, tabs, line breaks and `#` comments (to the end of the line).
    fn ws(&mut self) {
        while let Some(c) = self.peek() {
            match c {
                b' ' | b'\t' | b'\n' | b'\r' => self.pos += 1,
                b'#' => {
                    while self.peek().is_some_and(|c| c != b'\n' && c != b'\r') {
                        self.pos += 1;
                    }
                }
                _ => break,
            }
        }
    }

    /// `token` (a prefix, as tract's `tag`: `fragmentx` starts with `fragment`) and the blanks after it.
    fn eat(&mut self, token: &str) -> bool {
        let found = self.starts_with(token);
        if found {
            self.pos += token.len();
            self.ws();
        }
        found
    }

    fn expect(&mut self, token: &str) -> Option<()> {
        self.eat(token).then_some(())
    }

    /// `parse` one level deeper, or `None` past [`MAX_DEPTH`].
    fn nested<T>(&mut self, parse: impl FnOnce(&mut Self) -> Option<T>) -> Option<T> {
        if self.depth >= MAX_DEPTH {
            return None;
        }
        self.depth += 1;
        let parsed = parse(self);
        self.depth -= 1;
        parsed
    }

    /// Items separated by `,` up to `close` (tract's `separated_list0` between `stag`s): empty when
    /// `close` comes first, as none of the item rules can start with a closing bracket.
    fn list<T>(&mut self, close: &str, item: impl FnMut(&mut Self) -> Option<T>) -> Option<Vec<T>> {
        if self.eat(close) {
            return Some(Vec::new());
        }
        self.items(close, item)
    }

    /// At least one item, separated by `,`, then `close`.
    fn items<T>(&mut self, close: &str, mut item: impl FnMut(&mut Self) -> Option<T>) -> Option<Vec<T>> {
        let mut items = vec![item(self)?];
        while self.eat(",") {
            items.push(item(self)?);
        }
        self.expect(close)?;
        Some(items)
    }

    // ---- terminals

    /// `[A-Za-z_][A-Za-z0-9_]*`, or `i"…"` / `i'…'` (tract's escaped identifier, tried first; when
    /// its string does not parse, tract reads `i` alone).
    fn identifier(&mut self) -> Option<Identifier> {
        if self.peek() == Some(b'i') && matches!(self.bytes.get(self.pos + 1), Some(b'"' | b'\'')) {
            let start = self.pos;
            self.pos += 1;
            if let Some(s) = self.string() {
                return Some(Identifier(s));
            }
            self.pos = start;
        }
        let start = self.pos;
        if !self.peek().is_some_and(|c| c.is_ascii_alphabetic() || c == b'_') {
            return None;
        }
        while self.peek().is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_') {
            self.pos += 1;
        }
        let id = self.since(start)?;
        self.ws();
        Some(Identifier(id))
    }

    /// `-?(digits|inf)(.digits*)?([eE][+-]?digits)?`, as written (tract keeps numbers as text).
    fn number(&mut self) -> Option<String> {
        let (start, bytes) = (self.pos, self.bytes);
        let digits_from =
            |i: usize| i + bytes.get(i..).unwrap_or_default().iter().take_while(|c| c.is_ascii_digit()).count();
        let mut end = start + usize::from(self.peek() == Some(b'-'));
        if bytes.get(end).is_some_and(u8::is_ascii_digit) {
            end = digits_from(end);
        } else if bytes.get(end..).unwrap_or_default().starts_with(b"inf") {
            end += 3;
        } else {
            return None;
        }
        if bytes.get(end) == Some(&b'.') {
            end = digits_from(end + 1);
        }
        if matches!(bytes.get(end), Some(b'e' | b'E')) {
            let sign = usize::from(matches!(bytes.get(end + 1), Some(b'+' | b'-')));
            if bytes.get(end + 1 + sign).is_some_and(u8::is_ascii_digit) {
                end = digits_from(end + 1 + sign);
            }
        }
        self.pos = end;
        let number = self.since(start)?;
        self.ws();
        Some(number)
    }

    /// A string in `'…'` or `"…"`: neither quote may appear unescaped inside, and `\c` is `c`
    /// whatever `c` is (tract's rule: `\n` is `n`).
    fn string(&mut self) -> Option<String> {
        let quote = self.peek().filter(|&q| q == b'"' || q == b'\'')?;
        let start = self.pos + 1;
        let mut end = start;
        let mut escaped = false;
        loop {
            match *self.bytes.get(end)? {
                b'\\' => {
                    self.bytes.get(end + 1)?;
                    escaped = true;
                    end += 2;
                }
                b'"' | b'\'' => break,
                _ => end += 1,
            }
        }
        if self.bytes.get(end) != Some(&quote) {
            return None;
        }
        let raw = self.text.get(start..end)?;
        let s = if escaped { unescape(raw)? } else { raw.to_owned() };
        self.pos = end + 1;
        self.ws();
        Some(s)
    }

    /// `true` or `false` (prefixes, like every tract keyword).
    fn logical(&mut self) -> Option<bool> {
        if self.eat("true") {
            Some(true)
        } else if self.eat("false") {
            Some(false)
        } else {
            None
        }
    }

    /// A number, string or logical, tried in tract's order.
    fn literal(&mut self) -> Option<Literal> {
        if let Some(n) = self.number() {
            return Some(Literal::Numeric(n));
        }
        if let Some(s) = self.string() {
            return Some(Literal::String(s));
        }
        self.logical().map(Literal::Logical)
    }

    // ---- document, fragments, types

    /// `version <number>; (extension <id> <text>;)* <fragment>* <graph>`
    fn document(&mut self) -> Option<Document> {
        self.expect("version")?;
        let version = self.number()?;
        self.expect(";")?;
        let mut extension = Vec::new();
        while self.eat("extension") {
            extension.push(self.extension()?);
        }
        let fragments = self.fragments()?;
        let graph_def = self.graph_def()?;
        Some(Document { version, extension, fragments, graph_def })
    }

    /// After `extension`: an identifier, then anything up to the `;`, kept as written.
    fn extension(&mut self) -> Option<(Identifier, String)> {
        let id = self.identifier()?;
        let start = self.pos;
        self.pos += self.rest().iter().position(|&c| c == b';')?;
        let text = self.since(start)?;
        self.expect(";")?;
        Some((id, text))
    }

    fn fragments(&mut self) -> Option<Vec<FragmentDef>> {
        let mut fragments = Vec::new();
        while self.starts_with("fragment") {
            fragments.push(self.fragment_def()?);
        }
        Some(fragments)
    }

    /// A fragment declaration, then its body or `;`.
    fn fragment_def(&mut self) -> Option<FragmentDef> {
        let decl = self.fragment_decl()?;
        let body = if self.peek() == Some(b'{') {
            Some(self.body()?)
        } else {
            self.expect(";")?;
            None
        };
        Some(FragmentDef { decl, body })
    }

    /// `fragment <id> [<? [= <type>]>] ( <parameter>,* ) -> ( <result>,* )`
    fn fragment_decl(&mut self) -> Option<FragmentDecl> {
        self.expect("fragment")?;
        let id = self.identifier()?;
        let generic_decl = if self.eat("<") {
            self.expect("?")?;
            let name = if self.eat("=") { Some(self.type_name()?) } else { None };
            self.expect(">")?;
            Some(name)
        } else {
            None
        };
        self.expect("(")?;
        let parameters = self.list(")", Self::parameter)?;
        self.expect("->")?;
        self.expect("(")?;
        let results = self.list(")", Self::result)?;
        Some(FragmentDecl { id, generic_decl, parameters, results })
    }

    /// `<id> : <type-spec> [= <literal-expr>]`
    fn parameter(&mut self) -> Option<Parameter> {
        let id = self.identifier()?;
        self.expect(":")?;
        let spec = self.type_spec()?;
        let lit = if self.eat("=") { Some(self.literal_expr()?) } else { None };
        Some(Parameter { id, spec, lit, doc: None })
    }

    fn result(&mut self) -> Option<Result_> {
        let id = self.identifier()?;
        self.expect(":")?;
        Some(Result_ { id, spec: self.type_spec()? })
    }

    /// A literal, or a `[…]` / `(…)` of literals (one level, as tract reads them).
    fn literal_expr(&mut self) -> Option<Literal> {
        if self.eat("[") {
            self.list("]", Self::literal).map(Literal::Array)
        } else if self.eat("(") {
            self.list(")", Self::literal).map(Literal::Tuple)
        } else {
            self.literal()
        }
    }

    /// `integer`, `scalar`, `logical`, `string` or `?`. (`complex` exists only with tract's
    /// `complex` feature: not read here, so tract decides.)
    fn type_name(&mut self) -> Option<TypeName> {
        TYPE_NAMES.into_iter().find_map(|(token, name)| self.eat(token).then_some(name))
    }

    /// A tuple, type name or tensor type, then at most one `[]`.
    fn type_spec(&mut self) -> Option<TypeSpec> {
        self.nested(|p| {
            let spec = if p.eat("(") {
                TypeSpec::Tuple(p.list(")", Self::type_spec)?)
            } else if let Some(name) = p.type_name() {
                TypeSpec::Single(name)
            } else {
                p.expect("tensor")?;
                p.expect("<")?;
                let name = p.type_name()?;
                p.expect(">")?;
                TypeSpec::Tensor(name)
            };
            // tract tries `spec []` first and otherwise keeps `spec` alone, before the `[`
            let before = p.pos;
            if p.eat("[") && p.eat("]") {
                return Some(TypeSpec::Array(Box::new(spec)));
            }
            p.pos = before;
            Some(spec)
        })
    }

    /// `graph <id> ( <id>,* ) -> ( <id>,* ) <body>`
    fn graph_def(&mut self) -> Option<GraphDef> {
        self.expect("graph")?;
        let id = self.identifier()?;
        self.expect("(")?;
        let parameters = self.list(")", Self::identifier)?;
        self.expect("->")?;
        self.expect("(")?;
        let results = self.list(")", Self::identifier)?;
        let body = self.body()?;
        Some(GraphDef { id, parameters, results, body })
    }

    /// `{ <assignment>* }`: nothing but `}` can end the list, as no assignment starts with it.
    fn body(&mut self) -> Option<Vec<Assignment>> {
        self.expect("{")?;
        let mut body = Vec::new();
        while !self.eat("}") {
            body.push(self.assignment()?);
        }
        Some(body)
    }

    /// `<lvalue> = <rvalue> ;`
    fn assignment(&mut self) -> Option<Assignment> {
        let left = self.lvalue()?;
        self.expect("=")?;
        let right = self.rvalue()?;
        self.expect(";")?;
        Some(Assignment { left, right })
    }

    /// Lvalues separated by `,`: one is itself, more are a tuple, none (`= x;`) an empty tuple.
    fn lvalue(&mut self) -> Option<LValue> {
        if self.peek() == Some(b'=') {
            return Some(LValue::Tuple(Vec::new()));
        }
        let mut items = vec![self.inner_lvalue()?];
        while self.eat(",") {
            items.push(self.inner_lvalue()?);
        }
        Some(if items.len() == 1 { items.pop()? } else { LValue::Tuple(items) })
    }

    /// `[ … ]`, `( … )` (a tuple even of one) or an identifier.
    fn inner_lvalue(&mut self) -> Option<LValue> {
        self.nested(|p| {
            if p.eat("[") {
                p.list("]", Self::inner_lvalue).map(LValue::Array)
            } else if p.eat("(") {
                p.list(")", Self::inner_lvalue).map(LValue::Tuple)
            } else {
                p.identifier().map(LValue::Identifier)
            }
        })
    }

    // ---- expressions

    /// `<binary> [if <binary> else <binary>]`
    fn rvalue(&mut self) -> Option<RValue> {
        self.nested(|p| {
            let then = p.binary(0)?;
            // tract checks for `if` with `starts_with`, then reads `stag("if")`
            if !p.eat("if") {
                return Some(then);
            }
            let cond = p.binary(0)?;
            p.expect("else")?;
            let otherwise = p.binary(0)?;
            Some(RValue::IfThenElse(Box::new(IfThenElse { cond, then, otherwise })))
        })
    }

    /// Operands joined by operators of [`OPERATORS`]`[level..]`, by precedence climbing: the same
    /// left-leaning trees as tract's one fold per level.
    fn binary(&mut self, level: usize) -> Option<RValue> {
        let mut left = self.subscripted()?;
        while let Some((op, op_level)) = self.operator().filter(|&(_, l)| l >= level) {
            self.eat(op);
            let right = self.binary(op_level + 1)?;
            left = RValue::Binary(Box::new(left), op.to_owned(), Box::new(right));
        }
        Some(left)
    }

    /// The operator here and its level (the levels' operators share no prefix, so at most one
    /// level matches; within a level, two-character operators come first).
    fn operator(&self) -> Option<(&'static str, usize)> {
        OPERATORS
            .iter()
            .enumerate()
            .find_map(|(level, ops)| ops.iter().find(|op| self.starts_with(op)).map(|op| (*op, level)))
    }

    /// An atom, then at most one `[index]` or `[from:to]`.
    fn subscripted(&mut self) -> Option<RValue> {
        let base = self.atom()?;
        if !self.eat("[") {
            return Some(base);
        }
        let from = if self.peek() == Some(b':') { None } else { Some(self.rvalue()?) };
        let subscript = if self.eat(":") {
            let to = if self.peek() == Some(b']') { None } else { Some(self.rvalue()?) };
            Subscript::Range(from, to)
        } else {
            Subscript::Single(from?)
        };
        self.expect("]")?;
        Some(RValue::Subscript(Box::new(base), Box::new(subscript)))
    }

    /// tract's alternatives in its order: invocation, literal, identifier, unary operator,
    /// parenthesis or tuple, comprehension, array; the first byte tells which can apply.
    fn atom(&mut self) -> Option<RValue> {
        match self.peek()? {
            c if c.is_ascii_alphabetic() || c == b'_' => self.word(),
            b'0'..=b'9' | b'"' | b'\'' => self.literal().map(RValue::Literal),
            b'-' => match self.number() {
                Some(n) => Some(RValue::Literal(Literal::Numeric(n))),
                None => self.unary(),
            },
            b'+' | b'!' => self.unary(),
            b'(' => {
                let mut items = self.tight_list(")")?;
                Some(if items.len() == 1 { items.pop()? } else { RValue::Tuple(items) })
            }
            b'[' => self.bracket(),
            _ => None,
        }
    }

    /// What starts with a letter: an invocation when `(` follows the name (maybe after a
    /// `<type>`), else a literal when the name starts like one (`inf…`, `true…`, `false…`: tract
    /// tries literals before identifiers, as prefixes), else the identifier.
    fn word(&mut self) -> Option<RValue> {
        let start = self.pos;
        let id = self.identifier()?;
        let after_id = self.pos;
        let generic_type_name = self.invocation_generic()?;
        if self.eat("(") {
            let arguments = self.list(")", Self::argument)?;
            return Some(RValue::Invocation(Invocation { id, generic_type_name, arguments }));
        }
        self.pos = start;
        if let Some(literal) = self.literal() {
            return Some(RValue::Literal(literal));
        }
        self.pos = after_id;
        Some(RValue::Identifier(id))
    }

    /// After an invocation's name: `Some(Some(t))` for `<t>`, `Some(None)` when there is none
    /// (then a `<` is a comparison, for tract too), `None` for `<complex`, which only tract knows
    /// whether it reads.
    fn invocation_generic(&mut self) -> Option<Option<TypeName>> {
        let before = self.pos;
        if !self.eat("<") {
            return Some(None);
        }
        if self.starts_with("complex") {
            return None;
        }
        if let Some(name) = self.type_name() {
            if self.eat(">") {
                return Some(Some(name));
            }
        }
        self.pos = before;
        Some(None)
    }

    /// `[id =] <rvalue>`. tract takes `id =` whenever it is there, even as the start of `id == …`
    /// (which then fails, for both).
    fn argument(&mut self) -> Option<Argument> {
        let before = self.pos;
        let id = match self.identifier() {
            Some(id) if self.eat("=") => Some(id),
            _ => {
                self.pos = before;
                None
            }
        };
        Some(Argument { id, rvalue: self.rvalue()? })
    }

    /// `+`, `-` or `!`, over a whole expression (tract's unary operand is an rvalue, so `-a * b`
    /// is `-(a * b)`).
    fn unary(&mut self) -> Option<RValue> {
        let op = match self.peek()? {
            b'+' => "+",
            b'-' => "-",
            _ => "!",
        };
        self.eat(op);
        Some(RValue::Unary(op.to_owned(), Box::new(self.rvalue()?)))
    }

    /// Rvalues between the bracket here and its `close`. tract opens these with `tag`, not `stag`:
    /// an empty list is `()` or `[]` with nothing inside (`( )` is an error: no rvalue starts
    /// with `)`, so `items` leaves it to tract).
    fn tight_list(&mut self, close: &str) -> Option<Vec<RValue>> {
        self.pos += 1;
        if self.starts_with(close) {
            self.eat(close);
            return Some(Vec::new());
        }
        self.ws();
        self.items(close, Self::rvalue)
    }

    /// `[`: a comprehension when tract's comprehension rule can match (it is tried first), else an
    /// array.
    fn bracket(&mut self) -> Option<RValue> {
        let start = self.pos;
        self.pos += 1;
        self.ws();
        if self.eat("for") && self.loop_can_start() {
            return self.comprehension();
        }
        self.pos = start;
        self.tight_list("]").map(RValue::Array)
    }

    /// Whether, after `[ for`, tract's comprehension can go on: its loop list starts `<id> in`,
    /// or is empty and `yield` follows. Otherwise tract falls back to an array, and so does this.
    fn loop_can_start(&mut self) -> bool {
        let before = self.pos;
        let iterates = self.identifier().is_some() && self.starts_with("in");
        self.pos = before;
        iterates || self.starts_with("yield")
    }

    /// After `[ for`: `(<id> in <rvalue>),* yield <rvalue> ]`.
    fn comprehension(&mut self) -> Option<RValue> {
        let mut loop_iters = Vec::new();
        if let Some(first) = self.loop_iter()? {
            loop_iters.push(first);
            while self.eat(",") {
                // tract would step back before the `,`, then fail on it without `yield`
                loop_iters.push(self.loop_iter()??);
            }
        }
        self.expect("yield")?;
        let yields = self.rvalue()?;
        self.expect("]")?;
        Some(RValue::Comprehension(Box::new(Comprehension { loop_iters, filter: None, yields })))
    }

    /// `<id> in <rvalue>`: `Some(None)` (nothing read) when no `<id> in` is here.
    fn loop_iter(&mut self) -> Option<Option<(Identifier, RValue)>> {
        let before = self.pos;
        match self.identifier() {
            Some(id) if self.eat("in") => Some(Some((id, self.rvalue()?))),
            _ => {
                self.pos = before;
                Some(None)
            }
        }
    }
}

/// A string's text without its escaping backslashes. Removing ASCII bytes from UTF-8 leaves UTF-8.
fn unescape(raw: &str) -> Option<String> {
    let mut out = Vec::with_capacity(raw.len());
    let mut bytes = raw.bytes();
    while let Some(c) = bytes.next() {
        out.push(if c == b'\\' { bytes.next()? } else { c });
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::nnef::tests::{default_archives, graph_text};
    use tract_nnef::ast::parse as tract;

    /// Whether the fast reader took `text`; when it did, tract reads the very same document.
    fn agrees_with_tract(text: &str) -> bool {
        let Some(ours) = parse_fast(text) else { return false };
        match tract::parse_document(text) {
            Ok(tracts) => {
                assert!(ours == tracts, "read differently from tract:\n{text}\nhere: {ours:?}\ntract: {tracts:?}")
            }
            Err(e) => panic!("read what tract rejects ({e}):\n{text}"),
        }
        true
    }

    /// A document whose graph assigns `y` each of `rvalues`.
    fn graph_of(rvalues: &[&str]) -> String {
        let body: String = rvalues.iter().map(|rvalue| format!("  y = {rvalue};\n")).collect();
        format!("version 1.0;\ngraph g(x) -> (y) {{\n{body}}}\n")
    }

    #[test]
    fn the_default_models_graphs_read_as_tract_reads_them() {
        for (role, archive) in default_archives() {
            let text = graph_text(archive);
            let ours = parse_fast(&text).unwrap_or_else(|| panic!("{role:?}: left to tract"));
            assert!(ours == tract::parse_document(&text).unwrap(), "{role:?}: read differently from tract");
        }
    }

    #[test]
    fn tracts_stdlib_reads_as_tract_reads_it() {
        // stdlib.nnef's own text is private to tract: its fragments as tract's dumper writes them
        // (comprehensions, subscripts, if-else, unary and binary operators, generic declarations)
        let nnef = tract_nnef::nnef();
        let mut text = Vec::new();
        tract_nnef::ast::dump::Dumper::new(&nnef, &mut text).fragments(&nnef.stdlib).unwrap();
        let text = String::from_utf8(text).unwrap();
        let ours = complete(&text, Parser::fragments).expect("left to tract");
        assert!(ours == tract::parse_fragments(&text).unwrap(), "read differently from tract");
        let document = format!("version 1.0;\nextension tract_registry tract_core;\n{text}graph g() -> () {{\n}}\n");
        assert!(agrees_with_tract(&document));
    }

    #[test]
    fn hand_written_nnef_reads_as_tract_reads_it() {
        // tract's parser tests and stdlib.nnef, as people write NNEF: spaces, comments, line breaks
        let documents = [
            "version 1.0; graph foo() -> () {}",
            "\n# a comment\nversion 1.0 ; # another\r\nextension  tract_registry tract_core ;\nextension KHR_enable_operator_expressions;\ngraph g ( x , s ) -> ( y ) {\n  x = external<scalar>(shape = [1, 2, 1, 3]);\n  y = add(\n    mul(x, 0.33333334), # inline\n    s);\n}\n",
            "version 1.0;\nfragment fizz<? = scalar>( shape: integer[] ) -> ( output: tensor<?> );\nfragment reshape<?>( input: tensor<?>, shape: integer[], axis_start: integer = 0, axis_count: integer = -1 ) -> ( output: tensor<?> );\ngraph g() -> () {}",
            "version 1.0;\nfragment conv(\n  input: tensor<scalar>,\n  bias: tensor<scalar> = 0.0,\n  border: string = 'constant',\n  padding: (integer,integer)[] = [],\n  stride: integer[] = [],\n  flags: logical[] = [true, false],\n  pair: (scalar, string) = (1e-3, \"x\"),\n  groups: integer = 1 )\n-> ( output: tensor<scalar>, rest: ( scalar , scalar [ ] , tensor < scalar > ) );\ngraph g() -> () {}",
            "version 1.0;\nfragment min_max_linear_quantize( x: tensor<scalar>, min: tensor<scalar>, max: tensor<scalar>, bits: integer, signed: logical, symmetric: logical )\n-> ( y: tensor<scalar> )\n{\n  r = scalar(2 ^ bits - 1 - integer(signed && symmetric));\n  z = clamp(x, min, max);\n  p = scalar(2 ^ (bits - 1) - integer(symmetric) if signed else 0);\n  q = round((z - min) / (max - min) * r) - p;\n  y = (q + p) / r * (max - min) + min;\n}\ngraph g() -> () {}",
            "version 1.0;\ngraph g(x) -> (y, i) {\n  size = [for i in range_of(output_size) yield output_size[i] * sampling_rate[i]];\n  y, i = max_pool_with_index(x, size = size);\n  [a, b] = split(x, axis = 0, ratios = [1, 1]);\n  (c, d) = f(x);\n  (e) = g(x);\n  [] = h(x);\n}",
        ];
        let rvalues = [
            "12",
            "-12",
            "1.",
            "1.5e-3",
            "2E+8",
            "inf",
            "-inf",
            "0.0026041667",
            "true",
            "false",
            "'it\\'s'",
            "\"f\\\"oo\\\\\"",
            "'caf\u{e9} \\\u{e9}'",
            "\"🎯0\"",
            "i\"odd name\"",
            "i'x'(1)",
            "x",
            "_x1",
            "[]",
            "()",
            "[x]",
            "(x)",
            "(x, 1)",
            "[[1, 2], [3]]",
            "x ^ 2.0",
            "1+2",
            "1 + sqrt(var + eps)",
            "a - b * c ^ d + e",
            "a -1",
            "a - -1",
            "-a * b",
            "- 1",
            "+x",
            "!x",
            "!signed",
            "a == b",
            "a != b",
            "a<=b",
            "a>=b",
            "a < b",
            "a > b",
            "a<b",
            "(a + b) <= (c + d)",
            "a >= b && c <= d || e",
            "a in b in c",
            "x[0]",
            "x[1:]",
            "x[:2]",
            "x[:]",
            "x[a + 1 : b]",
            "f(x)[0]",
            "-x[0]",
            "x[0] ^ 2",
            "cast<scalar>(x)",
            "f <integer> (x)",
            "a<scalar>b",
            "a < scalar",
            "f(x, to = \"i64\", axes = [0, 2, 3])",
            "f()",
            "f( )",
            "tract_core_cast(-1, to = \"i64\")",
            "x[0] + add_n(x[1:]) if length_of(x) > 0 else constant(shape = [1], value = [0.0])",
            "0.0 if !signed else -r if symmetric else -r - 1.0",
            "[ fori in range_of(x) yield x[i]]",
            "[for i in a, j in b yield i * j]",
            "[for yield 1]",
            "[format]",
            "[forward, x]",
            "[(12 * batch)]",
            "[[[[-10000.0]]]]",
            "f(g(h(x, axes = [0]), axes = [2]))",
            "x # comment\n + 1",
        ];
        for text in documents.iter().map(|d| d.to_string()).chain(rvalues.iter().map(|r| graph_of(&[r]))) {
            assert!(agrees_with_tract(&text), "left to tract:\n{text}");
        }
    }

    #[test]
    fn what_tract_rejects_or_reads_oddly_is_left_to_it_or_read_alike() {
        // tract's grammar has sharp corners: this reader either leaves such text to tract or reads
        // it exactly as tract does (checked by agrees_with_tract)
        let rvalues = [
            "( )",
            "[ ]",
            "f(a == b)",
            "info",
            "truex",
            "trueiny",
            "1in x",
            "-info",
            "x[0][1]",
            "a if b",
            "a if b else c if d else e",
            "[for i in a, 1 yield i]",
            "[fori in x, y]",
            "'a\"b'",
            "\"unterminated",
            "i'x",
            "1.2.3",
            ".5",
            "x +",
            "x ->",
            "a ifx else y",
            "f<complex>(x)",
            "a<complex",
            "f(x,)",
            "[x,]",
            "x = y",
            "f(x)(y)",
            "- -1",
            "!!x",
            "a^b^c",
            "a*b/c",
            "x[1:2:3]",
        ];
        for text in rvalues.iter().map(|r| graph_of(&[r])) {
            agrees_with_tract(&text);
        }
        // some of them are read here, the same way
        for (rvalue, read) in
            [("- 1", true), ("trueiny", true), ("( )", false), ("info", false), ("f<complex>(x)", false)]
        {
            assert_eq!(agrees_with_tract(&graph_of(&[rvalue])), read, "{rvalue}");
        }
        // nesting past MAX_DEPTH goes to tract
        let deep = format!("{}x{}", "(".repeat(MAX_DEPTH + 1), ")".repeat(MAX_DEPTH + 1));
        assert!(parse_fast(&graph_of(&[&deep])).is_none());
        // (tract's parser takes twice as long for each level of parentheses: kept shallow)
        let shallow = format!("{}x{}", "(".repeat(10), ")".repeat(10));
        assert!(agrees_with_tract(&graph_of(&[&shallow])));
    }

    #[test]
    fn truncated_or_mutated_graphs_never_panic_nor_read_differently() {
        // bytes likely to make another valid document out of a real one, and any byte at all
        const TOKENS: &[u8] = b"()[]{},;:=<>+-*/^!&|#'\"\n .0e1_ai";
        let mut state = 0x9e37_79b9u32;
        for (role, archive) in default_archives() {
            let text = graph_text(archive);
            let bytes = text.as_bytes();
            for end in (0..bytes.len()).step_by(97) {
                if let Some(prefix) = text.get(..end) {
                    agrees_with_tract(prefix);
                }
            }
            let mut read = 0;
            for flip in 0..400 {
                let mut mutated = bytes.to_vec();
                let at = crate::model::ops::int8_linear::next_random(&mut state) as usize % mutated.len();
                let r = crate::model::ops::int8_linear::next_random(&mut state);
                mutated[at] = if flip % 4 == 0 { r as u8 } else { TOKENS[r as usize % TOKENS.len()] };
                if let Ok(mutated) = std::str::from_utf8(&mutated) {
                    read += usize::from(agrees_with_tract(mutated));
                }
            }
            // enough of them still parse for the comparison to mean something
            assert!(read > 100, "{role:?}: only {read} mutated graphs read");
        }
    }

    /// One of `options`, at random.
    fn pick<'a>(state: &mut u32, options: &[&'a str]) -> &'a str {
        options[crate::model::ops::int8_linear::next_random(state) as usize % options.len()]
    }

    /// A random expression of tract's grammar, with random blanks, names that start like keywords
    /// or literals, and numbers in every form tract reads.
    fn random_rvalue(state: &mut u32, depth: usize) -> String {
        const NAMES: &[&str] = &[
            "x",
            "_y",
            "a1",
            "i",
            "in_x",
            "iffy",
            "elsewhere",
            "yields",
            "format",
            "fori",
            "trueish",
            "info",
            "scalar",
        ];
        const LEAVES: &[&str] = &[
            "0",
            "12",
            "-3",
            "1.5",
            "1.",
            "-2.5e-3",
            "4E+2",
            "inf",
            "-inf",
            "true",
            "false",
            "'s'",
            "\"t\\\"u\"",
            "i\"q r\"",
        ];
        const BINARY: &[&str] = &["^", "*", "/", "+", "-", "==", "!=", "<=", ">=", "<", ">", "&&", "||", "in"];
        const BLANKS: &[&str] = &["", "", " ", "  ", "\n", " # c\n"];
        let b = pick(state, BLANKS);
        let kinds = if depth == 0 { 2 } else { 12 };
        let mut sub = || if depth == 0 { String::new() } else { random_rvalue(state, depth - 1) };
        let (x, y, z) = (sub(), sub(), sub());
        let (name, other) = (pick(state, NAMES), pick(state, NAMES));
        match crate::model::ops::int8_linear::next_random(state) % kinds {
            0 => name.to_string(),
            1 => pick(state, LEAVES).to_string(),
            2 => format!("{x}{b}{}{b}{y}", pick(state, BINARY)),
            3 => format!("{}{b}{x}", pick(state, &["-", "+", "!"])),
            4 => format!("({b}{x}{b})"),
            5 => format!("({x}, {b}{y})"),
            6 => format!("[{x}{b},{y}]"),
            7 => format!("{name}[{b}{x}{b}]"),
            8 => format!("{name}[{x}:{b}]"),
            9 => format!("[{b}for {name} in {x}{b}yield {y}]"),
            10 => format!("{x} if {y}{b}else {z}"),
            _ => format!("{name}{}{b}({x}, {other} = {b}{y})", pick(state, &["", "<scalar>", "<?>", " < integer >"])),
        }
    }

    #[test]
    fn random_expressions_and_token_soups_read_as_tract_reads_them() {
        // random expressions of the grammar, some with a token slipped in, and short random
        // sequences of NNEF's tokens (and near misses) as an expression, an assignment and a
        // fragment's parameters: wherever this reader reads one, tract reads the same document.
        // MINIRANK_NNEF_CASES=1000000 for a longer run.
        const TOKENS: &[&str] = &[
            "x", "f", "a1", "_", "i", "in", "if", "else", "for", "yield", "true", "false", "inf", "info", "1", "-1",
            "2.5", "1e3", "1.e", "'s'", "\"t\"", "i\"q\"", "'\\''", "(", ")", "[", "]", ",", ":", "=", "==", "<", ">",
            "<=", ">=", "!", "!=", "+", "-", "*", "/", "^", "&&", "||", "scalar", "integer", "tensor", "?", "complex",
            "# c\n", "[for", "[ for", "fori", "()", "[]", "( )", "<scalar>", ";", "->", "{", "}", "string", "logical",
        ];
        let cases = std::env::var("MINIRANK_NNEF_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(40_000);
        let mut state = 0x2545_f491u32;
        let mut read = 0;
        for case in 0..cases {
            let len = 1 + crate::model::ops::int8_linear::next_random(&mut state) as usize % 10;
            let soup: Vec<String> =
                (0..len).map(|_| format!("{}{}", pick(&mut state, TOKENS), pick(&mut state, &["", "", " "]))).collect();
            let text = match case % 4 {
                0 => {
                    let rvalue = random_rvalue(&mut state, 3);
                    let at = crate::model::ops::int8_linear::next_random(&mut state) as usize % (rvalue.len() + 1);
                    let slipped = if case % 8 == 0 { soup[0].as_str() } else { "" };
                    graph_of(&[&format!("{}{slipped}{}", &rvalue[..at], &rvalue[at..])])
                }
                1 => graph_of(&[&soup.concat()]),
                2 => format!("version 1.0;\ngraph g() -> () {{\n  {};\n}}\n", soup.concat()),
                _ => format!("version 1.0;\nfragment h({}) -> (y: scalar);\ngraph g() -> () {{}}\n", soup.concat()),
            };
            read += usize::from(agrees_with_tract(&text));
        }
        assert!(read > cases / 10, "only {read} of {cases} read");
    }
}
