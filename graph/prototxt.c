/* Protobuf text format parser: a hand-written lexer and a recursive-descent
 * parser over a byte buffer, building an sc_pt_node tree. Nodes are linked into
 * the tree before their contents are parsed, so on any error freeing the root
 * releases everything. */
#include "prototxt.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ lexer */

typedef enum tok_kind { TOK_EOF, TOK_IDENT, TOK_NUMBER, TOK_STRING, TOK_SYMBOL } tok_kind;

typedef struct lexer {
    const char *src;
    size_t len, pos;
    int line, col;      /* position of src[pos] */
    const char *file;
    sc_error *err;
    tok_kind kind;      /* current token */
    char sym;           /* TOK_SYMBOL: the byte (also stray characters) */
    size_t start, end;  /* TOK_IDENT / TOK_NUMBER: span in src */
    char *sbuf;         /* TOK_STRING: unescaped bytes (owned, reused) */
    size_t slen, scap;
    int tline, tcol;    /* position of the current token */
} lexer;

/* Longest excerpt of user text quoted in a message: keeps messages one line. */
#define SC_PT_EXCERPT 40

static int is_ident_start(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int is_digit(int c) { return c >= '0' && c <= '9'; }

static int is_ident_char(int c) { return is_ident_start(c) || is_digit(c); }

static int hex_value(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Writes bytes as a quoted, escaped excerpt (non-printables as \xNN) so that
 * hostile input cannot put control characters or huge lines into messages. */
static void excerpt(const char *s, size_t n, char *buf, size_t size)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 8 < size; i++) {
        unsigned char c = (unsigned char)s[i];
        if (i == SC_PT_EXCERPT) {
            o += (size_t)snprintf(buf + o, size - o, "...");
            break;
        }
        if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'' && c != '"')
            buf[o++] = (char)c;
        else if (c == '\\' || c == '\'' || c == '"')
            o += (size_t)snprintf(buf + o, size - o, "\\%c", c);
        else
            o += (size_t)snprintf(buf + o, size - o, "\\x%02x", c);
    }
    buf[o < size ? o : size - 1] = '\0';
}

static int is_known_symbol(char c) { return c != '\0' && strchr("{}<>[]:;,-", c) != NULL; }

/* "identifier 'foo'", "'{'", "character '@'", "end of file", ... */
static const char *describe_token(const lexer *lx, char *buf, size_t size)
{
    char ex[4 * SC_PT_EXCERPT + 16];
    switch (lx->kind) {
    case TOK_EOF:
        snprintf(buf, size, "end of file");
        break;
    case TOK_IDENT:
    case TOK_NUMBER:
        excerpt(lx->src + lx->start, lx->end - lx->start, ex, sizeof ex);
        snprintf(buf, size, "%s '%s'", lx->kind == TOK_IDENT ? "identifier" : "number", ex);
        break;
    case TOK_STRING:
        excerpt(lx->sbuf, lx->slen, ex, sizeof ex);
        snprintf(buf, size, "string \"%s\"", ex);
        break;
    case TOK_SYMBOL:
        excerpt(&lx->sym, 1, ex, sizeof ex);
        snprintf(buf, size, "%s'%s'", is_known_symbol(lx->sym) ? "" : "character ", ex);
        break;
    }
    return buf;
}

static sc_status lex_fail_at(lexer *lx, int line, int col, const char *what)
{
    return sc_fail(lx->err, SC_ERR_PARSE, "%s:%d:%d: %s", lx->file, line, col, what);
}

/* Moves over one byte, keeping line/col current. */
static void lex_advance(lexer *lx)
{
    if (lx->src[lx->pos] == '\n') {
        if (lx->line < 0x7fffffff)
            lx->line++;
        lx->col = 1;
    } else if (lx->col < 0x7fffffff) {
        lx->col++;
    }
    lx->pos++;
}

static void skip_space_and_comments(lexer *lx)
{
    while (lx->pos < lx->len) {
        char c = lx->src[lx->pos];
        if (c == '#') {
            while (lx->pos < lx->len && lx->src[lx->pos] != '\n')
                lex_advance(lx);
        } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') {
            lex_advance(lx);
        } else {
            return;
        }
    }
}

static sc_status sbuf_push(lexer *lx, const char *bytes, size_t n)
{
    if (lx->slen + n + 1 > lx->scap) {
        size_t cap = lx->scap ? lx->scap : 64;
        while (cap < lx->slen + n + 1)
            cap *= 2;
        char *p = realloc(lx->sbuf, cap);
        if (!p)
            return sc_fail(lx->err, SC_ERR_NOMEM, "%s: out of memory reading a string", lx->file);
        lx->sbuf = p;
        lx->scap = cap;
    }
    memcpy(lx->sbuf + lx->slen, bytes, n);
    lx->slen += n;
    lx->sbuf[lx->slen] = '\0';
    return SC_OK;
}

/* Reads exactly `digits` hex digits (or up to `digits` when `upto`); returns
 * the count read and the value in *out. */
static int read_hex(lexer *lx, int digits, int upto, unsigned long *out)
{
    int n = 0;
    unsigned long v = 0;
    while (n < digits && lx->pos < lx->len && hex_value(lx->src[lx->pos]) >= 0) {
        v = v * 16 + (unsigned long)hex_value(lx->src[lx->pos]);
        lex_advance(lx);
        n++;
    }
    *out = v;
    return (upto || n == digits) ? n : -1;
}

static sc_status push_utf8(lexer *lx, unsigned long cp)
{
    char b[4];
    size_t n;
    if (cp < 0x80) {
        b[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (char)(0xC0 | (cp >> 6));
        b[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (char)(0xE0 | (cp >> 12));
        b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        b[0] = (char)(0xF0 | (cp >> 18));
        b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        b[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    return sbuf_push(lx, b, n);
}

static const char ESCAPES_EXPECTED[] =
    "expected one of \\n \\t \\r \\a \\b \\f \\v \\\\ \\' \\\" \\? \\NNN (octal) \\xHH "
    "\\uHHHH \\UHHHHHHHH";

/* \u / \U escape: a code point, with a UTF-16 surrogate pair joined as protobuf does. */
static sc_status lex_unicode_escape(lexer *lx, char u, int line, int col)
{
    unsigned long cp;
    if (read_hex(lx, u == 'u' ? 4 : 8, 0, &cp) < 0)
        return sc_fail(lx->err, SC_ERR_PARSE, "%s:%d:%d: bad escape '\\%c' in string, expected %d hex digits",
                       lx->file, line, col, u, u == 'u' ? 4 : 8);
    if (cp >= 0xD800 && cp <= 0xDBFF && lx->pos + 1 < lx->len && lx->src[lx->pos] == '\\' &&
        lx->src[lx->pos + 1] == 'u') {
        lex_advance(lx);
        lex_advance(lx);
        unsigned long lo;
        if (read_hex(lx, 4, 0, &lo) < 0 || lo < 0xDC00 || lo > 0xDFFF)
            return lex_fail_at(lx, line, col,
                               "bad escape: unpaired UTF-16 surrogate in string, expected a high surrogate followed by \\uDC00-\\uDFFF");
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
    }
    if (cp >= 0xD800 && cp <= 0xDFFF)
        return lex_fail_at(lx, line, col,
                           "bad escape: unpaired UTF-16 surrogate in string, expected a high surrogate followed by \\uDC00-\\uDFFF");
    if (cp > 0x10FFFF)
        return sc_fail(lx->err, SC_ERR_PARSE,
                       "%s:%d:%d: bad escape: code point 0x%lx in string, expected a Unicode scalar value",
                       lx->file, line, col, cp);
    return push_utf8(lx, cp);
}

/* Called with lx->pos on the character after the backslash. */
static sc_status lex_escape(lexer *lx, int line, int col)
{
    static const char from[] = "ntrabfv\\'\"?";
    static const char to[] = "\n\t\r\a\b\f\v\\'\"?";
    char c = lx->src[lx->pos];
    const char *hit = c ? strchr(from, c) : NULL;
    if (hit) {
        lex_advance(lx);
        return sbuf_push(lx, &to[hit - from], 1);
    }
    if (c >= '0' && c <= '7') {
        unsigned v = 0;
        for (int i = 0; i < 3 && lx->pos < lx->len && lx->src[lx->pos] >= '0' && lx->src[lx->pos] <= '7'; i++) {
            v = v * 8 + (unsigned)(lx->src[lx->pos] - '0');
            lex_advance(lx);
        }
        if (v > 0xFF)
            return lex_fail_at(lx, line, col, "bad escape: octal value above \\377 in string, expected a byte value");
        char b = (char)v;
        return sbuf_push(lx, &b, 1);
    }
    if (c == 'x' || c == 'X') {
        lex_advance(lx);
        unsigned long v;
        if (read_hex(lx, 2, 1, &v) == 0)
            return lex_fail_at(lx, line, col, "bad escape '\\x' in string, expected hex digits after \\x");
        char b = (char)v;
        return sbuf_push(lx, &b, 1);
    }
    if (c == 'u' || c == 'U') {
        lex_advance(lx);
        return lex_unicode_escape(lx, c, line, col);
    }
    char ex[16];
    excerpt(&c, 1, ex, sizeof ex);
    return sc_fail(lx->err, SC_ERR_PARSE, "%s:%d:%d: bad escape '\\%s' in string, %s", lx->file, line, col, ex,
                   ESCAPES_EXPECTED);
}

/* One quoted literal, appended to sbuf. lx->pos is on the opening quote. */
static sc_status lex_one_string(lexer *lx)
{
    char q = lx->src[lx->pos];
    int line = lx->line, col = lx->col;
    lex_advance(lx);
    for (;;) {
        if (lx->pos >= lx->len)
            return sc_fail(lx->err, SC_ERR_PARSE,
                           "%s:%d:%d: unexpected end of file in string opened at %d:%d, expected closing %c",
                           lx->file, lx->line, lx->col, line, col, q);
        char c = lx->src[lx->pos];
        if (c == q) {
            lex_advance(lx);
            return SC_OK;
        }
        if (c == '\n')
            return sc_fail(lx->err, SC_ERR_PARSE,
                           "%s:%d:%d: unexpected end of line in string opened at %d:%d, expected closing %c",
                           lx->file, lx->line, lx->col, line, col, q);
        if (c == '\\') {
            int eline = lx->line, ecol = lx->col;
            lex_advance(lx);
            if (lx->pos >= lx->len)
                continue; /* reported as end of file above */
            SC_TRY(lex_escape(lx, eline, ecol));
        } else {
            SC_TRY(sbuf_push(lx, &c, 1));
            lex_advance(lx);
        }
    }
}

/* Adjacent literals ("ab" 'cd') form one string, as in protobuf and C. */
static sc_status lex_string(lexer *lx)
{
    lx->slen = 0;
    SC_TRY(sbuf_push(lx, "", 0));
    do {
        SC_TRY(lex_one_string(lx));
        skip_space_and_comments(lx);
    } while (lx->pos < lx->len && (lx->src[lx->pos] == '"' || lx->src[lx->pos] == '\''));
    lx->kind = TOK_STRING;
    return SC_OK;
}

static sc_status number_fail(lexer *lx, const char *why)
{
    char ex[4 * SC_PT_EXCERPT + 16];
    excerpt(lx->src + lx->start, lx->pos - lx->start, ex, sizeof ex);
    return sc_fail(lx->err, SC_ERR_PARSE, "%s:%d:%d: malformed number '%s', expected %s", lx->file, lx->tline,
                   lx->tcol, ex, why);
}

static void skip_digits(lexer *lx)
{
    while (lx->pos < lx->len && is_digit(lx->src[lx->pos]))
        lex_advance(lx);
}

/* Decimal part of a number: digits [. digits] [e[+-]digits] [f]. */
static sc_status lex_decimal(lexer *lx, int *is_int)
{
    skip_digits(lx);
    if (lx->pos < lx->len && lx->src[lx->pos] == '.') {
        *is_int = 0;
        lex_advance(lx);
        skip_digits(lx);
    }
    if (lx->pos < lx->len && (lx->src[lx->pos] == 'e' || lx->src[lx->pos] == 'E')) {
        *is_int = 0;
        lex_advance(lx);
        if (lx->pos < lx->len && (lx->src[lx->pos] == '+' || lx->src[lx->pos] == '-'))
            lex_advance(lx);
        if (lx->pos >= lx->len || !is_digit(lx->src[lx->pos]))
            return number_fail(lx, "digits in the exponent");
        skip_digits(lx);
    }
    if (lx->pos < lx->len && (lx->src[lx->pos] == 'f' || lx->src[lx->pos] == 'F')) {
        *is_int = 0;
        lex_advance(lx);
    }
    return SC_OK;
}

static sc_status lex_number(lexer *lx)
{
    const char *s = lx->src;
    int is_int = 1;
    if (s[lx->pos] == '0' && lx->pos + 1 < lx->len && (s[lx->pos + 1] == 'x' || s[lx->pos + 1] == 'X')) {
        lex_advance(lx);
        lex_advance(lx);
        if (lx->pos >= lx->len || hex_value(s[lx->pos]) < 0)
            return number_fail(lx, "hex digits after 0x");
        while (lx->pos < lx->len && hex_value(s[lx->pos]) >= 0)
            lex_advance(lx);
    } else {
        SC_TRY(lex_decimal(lx, &is_int));
        /* protobuf reads a leading 0 as octal; 09 is an error there too. */
        if (is_int && s[lx->start] == '0' && lx->pos - lx->start > 1) {
            for (size_t i = lx->start; i < lx->pos; i++)
                if (s[i] > '7')
                    return number_fail(lx, "octal digits 0-7 after a leading 0");
        }
    }
    if (lx->pos < lx->len && (is_ident_char(s[lx->pos]) || s[lx->pos] == '.')) {
        lex_advance(lx);
        return number_fail(lx, "a space or separator after the number");
    }
    lx->end = lx->pos;
    lx->kind = TOK_NUMBER;
    return SC_OK;
}

/* Reads the next token into lx. */
static sc_status lex_next(lexer *lx)
{
    skip_space_and_comments(lx);
    lx->tline = lx->line;
    lx->tcol = lx->col;
    lx->start = lx->end = lx->pos;
    if (lx->pos >= lx->len) {
        lx->kind = TOK_EOF;
        return SC_OK;
    }
    char c = lx->src[lx->pos];
    if (is_ident_start(c)) {
        while (lx->pos < lx->len && is_ident_char(lx->src[lx->pos]))
            lex_advance(lx);
        lx->end = lx->pos;
        lx->kind = TOK_IDENT;
        return SC_OK;
    }
    if (is_digit(c) || (c == '.' && lx->pos + 1 < lx->len && is_digit(lx->src[lx->pos + 1])))
        return lex_number(lx);
    if (c == '"' || c == '\'')
        return lex_string(lx);
    lx->kind = TOK_SYMBOL;
    lx->sym = c;
    lex_advance(lx);
    return SC_OK;
}

static int tok_is(const lexer *lx, char sym) { return lx->kind == TOK_SYMBOL && lx->sym == sym; }

/* ------------------------------------------------------------------ tree */

static sc_pt_node *node_new(lexer *lx, const char *name, size_t name_len, sc_pt_kind kind, int line, int col)
{
    sc_pt_node *n = calloc(1, sizeof *n);
    if (!n)
        return NULL;
    n->name = malloc(name_len + 1);
    if (!n->name) {
        free(n);
        return NULL;
    }
    memcpy(n->name, name, name_len);
    n->name[name_len] = '\0';
    n->kind = kind;
    n->file = lx->file;
    n->line = line;
    n->col = col;
    return n;
}

static void node_free(sc_pt_node *n)
{
    for (size_t i = 0; i < n->n_children; i++)
        node_free(n->children[i]);
    free(n->children);
    free(n->name);
    free(n->text);
    free(n);
}

void sc_pt_free(sc_pt_node *root)
{
    if (root)
        node_free(root); /* the root's block also holds the file name */
}

/* Appends child to parent; on failure frees child so callers need not. */
static sc_status node_add(lexer *lx, sc_pt_node *parent, sc_pt_node *child)
{
    if (!child)
        return sc_fail(lx->err, SC_ERR_NOMEM, "%s: out of memory building the message tree", lx->file);
    if (parent->n_children == parent->children_cap) {
        size_t cap = parent->children_cap ? parent->children_cap * 2 : 4;
        sc_pt_node **p = realloc(parent->children, cap * sizeof *p);
        if (!p) {
            node_free(child);
            return sc_fail(lx->err, SC_ERR_NOMEM, "%s: out of memory building the message tree", lx->file);
        }
        parent->children = p;
        parent->children_cap = cap;
    }
    parent->children[parent->n_children++] = child;
    return SC_OK;
}

static sc_status node_set_text(lexer *lx, sc_pt_node *n, const char *prefix, const char *text, size_t len)
{
    size_t plen = strlen(prefix);
    n->text = malloc(plen + len + 1);
    if (!n->text)
        return sc_fail(lx->err, SC_ERR_NOMEM, "%s: out of memory building the message tree", lx->file);
    memcpy(n->text, prefix, plen);
    memcpy(n->text + plen, text, len);
    n->text[plen + len] = '\0';
    n->text_len = plen + len;
    return SC_OK;
}

/* ------------------------------------------------------------------ parser */

typedef struct field_ctx {
    const char *name;
    size_t name_len;
    int line, col; /* of the field name */
} field_ctx;

static sc_status parse_body(lexer *lx, sc_pt_node *msg, char close, int depth);

static sc_status unexpected(lexer *lx, const char *expected_fmt, ...) __attribute__((format(printf, 2, 3)));

/* "FILE:L:C: unexpected <current token>, expected <...>" */
static sc_status unexpected(lexer *lx, const char *expected_fmt, ...)
{
    char found[4 * SC_PT_EXCERPT + 32];
    char expected[512];
    va_list ap;
    va_start(ap, expected_fmt);
    vsnprintf(expected, sizeof expected, expected_fmt, ap);
    va_end(ap);
    describe_token(lx, found, sizeof found);
    return sc_fail(lx->err, SC_ERR_PARSE, "%s:%d:%d: unexpected %s, expected %s", lx->file, lx->tline, lx->tcol,
                   found, expected);
}

static int ident_is_special_float(const char *s, size_t n)
{
    static const char *const names[] = {"inf", "infinity", "nan"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        size_t k = strlen(names[i]);
        if (n != k)
            continue;
        size_t j = 0;
        while (j < k && (s[j] | 0x20) == names[i][j])
            j++;
        if (j == k)
            return 1;
    }
    return 0;
}

/* A scalar value (current token) for field f at (line, col). */
static sc_status parse_scalar(lexer *lx, sc_pt_node *parent, const field_ctx *f, int line, int col, int in_list)
{
    const char *prefix = "";
    if (tok_is(lx, '-')) {
        SC_TRY(lex_next(lx));
        int ok = lx->kind == TOK_NUMBER ||
                 (lx->kind == TOK_IDENT && ident_is_special_float(lx->src + lx->start, lx->end - lx->start));
        if (!ok)
            return unexpected(lx, "a number after '-'");
        prefix = "-";
    }
    sc_pt_kind kind;
    const char *text;
    size_t len = 0;
    switch (lx->kind) {
    case TOK_NUMBER: kind = SC_PT_NUMBER; text = lx->src + lx->start; len = lx->end - lx->start; break;
    case TOK_IDENT: kind = SC_PT_IDENT; text = lx->src + lx->start; len = lx->end - lx->start; break;
    case TOK_STRING: kind = SC_PT_STRING; text = lx->sbuf; len = lx->slen; break;
    default: return unexpected(lx, "a value for '%.*s'", (int)f->name_len, f->name);
    }
    sc_pt_node *n = node_new(lx, f->name, f->name_len, kind, line, col);
    SC_TRY(node_add(lx, parent, n));
    n->in_list = in_list;
    SC_TRY(node_set_text(lx, n, prefix, text, len));
    return lex_next(lx);
}

/* A message value; the current token is '{' or '<'. */
static sc_status parse_message(lexer *lx, sc_pt_node *parent, const field_ctx *f, int line, int col, int in_list,
                               int depth)
{
    if (depth > SC_PT_MAX_DEPTH)
        return sc_fail(lx->err, SC_ERR_PARSE,
                       "%s:%d:%d: message '%.*s' nested %d levels deep, expected at most %d levels (nesting too deep)",
                       lx->file, line, col, (int)(f->name_len > 64 ? 64 : f->name_len), f->name, depth,
                       SC_PT_MAX_DEPTH);
    char close = lx->sym == '{' ? '}' : '>';
    sc_pt_node *n = node_new(lx, f->name, f->name_len, SC_PT_MESSAGE, line, col);
    SC_TRY(node_add(lx, parent, n));
    n->in_list = in_list;
    SC_TRY(lex_next(lx));
    return parse_body(lx, n, close, depth);
}

/* `[v, v, ...]`; the current token is '['. Without a colon only messages may follow. */
static sc_status parse_list(lexer *lx, sc_pt_node *parent, const field_ctx *f, int colon, int depth)
{
    int oline = lx->tline, ocol = lx->tcol;
    SC_TRY(lex_next(lx));
    if (tok_is(lx, ']'))
        return lex_next(lx);
    for (;;) {
        if (tok_is(lx, '{') || tok_is(lx, '<'))
            SC_TRY(parse_message(lx, parent, f, lx->tline, lx->tcol, 1, depth + 1));
        else if (!colon)
            return unexpected(lx, "'{' (a list without ':' holds messages only)");
        else
            SC_TRY(parse_scalar(lx, parent, f, lx->tline, lx->tcol, 1));
        if (tok_is(lx, ']'))
            return lex_next(lx);
        if (!tok_is(lx, ','))
            return unexpected(lx, "',' or ']' to close the list of '%.*s' opened at %d:%d", (int)f->name_len,
                              f->name, oline, ocol);
        SC_TRY(lex_next(lx));
    }
}

/* name [:] value [;|,]  -- the current token is the field name. */
static sc_status parse_field(lexer *lx, sc_pt_node *msg, int depth)
{
    field_ctx f = {lx->src + lx->start, lx->end - lx->start, lx->tline, lx->tcol};
    int colon = 0;
    SC_TRY(lex_next(lx));
    if (tok_is(lx, ':')) {
        colon = 1;
        SC_TRY(lex_next(lx));
    }
    if (tok_is(lx, '{') || tok_is(lx, '<'))
        SC_TRY(parse_message(lx, msg, &f, f.line, f.col, 0, depth + 1));
    else if (tok_is(lx, '['))
        SC_TRY(parse_list(lx, msg, &f, colon, depth));
    else if (!colon)
        return unexpected(lx, "':' or '{' after field name '%.*s'", (int)(f.name_len > 64 ? 64 : f.name_len),
                          f.name);
    else
        SC_TRY(parse_scalar(lx, msg, &f, f.line, f.col, 0));
    if (tok_is(lx, ';') || tok_is(lx, ','))
        SC_TRY(lex_next(lx));
    return SC_OK;
}

/* Fields until `close` ('}' or '>'), or until end of file for the root (close 0). */
static sc_status parse_body(lexer *lx, sc_pt_node *msg, char close, int depth)
{
    for (;;) {
        if (lx->kind == TOK_IDENT) {
            SC_TRY(parse_field(lx, msg, depth));
            continue;
        }
        if (close && tok_is(lx, close))
            return lex_next(lx);
        if (!close && lx->kind == TOK_EOF)
            return SC_OK;
        if (!close)
            return unexpected(lx, "a field name%s",
                              (tok_is(lx, '}') || tok_is(lx, '>')) ? " (no block is open: unbalanced brace)" : "");
        if (lx->kind == TOK_EOF)
            return sc_fail(lx->err, SC_ERR_PARSE,
                           "%s:%d:%d: unexpected end of file, expected '%c' to close '%s' opened at %d:%d",
                           lx->file, lx->tline, lx->tcol, close, msg->name, msg->line, msg->col);
        return unexpected(lx, "a field name or '%c' to close '%s' opened at %d:%d", close, msg->name, msg->line,
                          msg->col);
    }
}

sc_status sc_prototxt_parse_text(const char *text, size_t len, const char *filename, sc_pt_node **root,
                                 sc_error *err)
{
    if (!root || (!text && len))
        return sc_fail(err, SC_ERR_ARG, "sc_prototxt_parse_text: NULL argument");
    *root = NULL;
    if (!filename)
        filename = "<text>";
    size_t flen = strlen(filename);
    /* The root and the file name share one block, so node->file needs no
     * separate ownership and sc_pt_free stays a plain recursive free. */
    sc_pt_node *r = calloc(1, sizeof *r + flen + 1);
    if (!r || !(r->name = calloc(1, 1))) {
        free(r);
        return sc_fail(err, SC_ERR_NOMEM, "%s: out of memory", filename);
    }
    char *fcopy = (char *)(r + 1);
    memcpy(fcopy, filename, flen + 1);
    r->file = fcopy;
    r->kind = SC_PT_MESSAGE;
    r->line = r->col = 1;
    lexer lx = {.src = text ? text : "", .len = len, .line = 1, .col = 1, .file = fcopy, .err = err};
    sc_status st = lex_next(&lx);
    if (st == SC_OK)
        st = parse_body(&lx, r, 0, 0);
    free(lx.sbuf);
    if (st != SC_OK) {
        sc_pt_free(r);
        return st;
    }
    *root = r;
    return SC_OK;
}

static sc_status io_fail(sc_error *err, const char *what, const char *path)
{
    char msg[256];
    int e = errno;
    if (strerror_r(e, msg, sizeof msg) != 0)
        snprintf(msg, sizeof msg, "error %d", e);
    return sc_fail(err, SC_ERR_IO, "%s: cannot %s: %s", path, what, msg);
}

/* Reads the whole file into a malloc'd buffer. */
static sc_status read_all(const char *path, char **data, size_t *len, sc_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return io_fail(err, "open", path);
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    sc_status st = buf ? SC_OK : sc_fail(err, SC_ERR_NOMEM, "%s: out of memory", path);
    while (st == SC_OK) {
        if (n == cap) {
            char *p = cap < ((size_t)-1) / 2 ? realloc(buf, cap * 2) : NULL;
            if (!p) {
                st = sc_fail(err, SC_ERR_NOMEM, "%s: out of memory", path);
                break;
            }
            buf = p;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f))
                st = io_fail(err, "read", path);
            break;
        }
    }
    fclose(f);
    if (st != SC_OK) {
        free(buf);
        return st;
    }
    *data = buf;
    *len = n;
    return SC_OK;
}

sc_status sc_prototxt_parse_file(const char *path, sc_pt_node **root, sc_error *err)
{
    if (!path || !root)
        return sc_fail(err, SC_ERR_ARG, "sc_prototxt_parse_file: NULL argument");
    *root = NULL;
    char *data = NULL;
    size_t len = 0;
    SC_TRY(read_all(path, &data, &len, err));
    sc_status st = sc_prototxt_parse_text(data, len, path, root, err);
    free(data);
    return st;
}

/* ------------------------------------------------------------------ queries */

size_t sc_pt_count(const sc_pt_node *msg, const char *field)
{
    size_t n = 0;
    if (!msg || msg->kind != SC_PT_MESSAGE || !field)
        return 0;
    for (size_t i = 0; i < msg->n_children; i++)
        n += strcmp(msg->children[i]->name, field) == 0;
    return n;
}

const sc_pt_node *sc_pt_find(const sc_pt_node *msg, const char *field, size_t index)
{
    if (!msg || msg->kind != SC_PT_MESSAGE || !field)
        return NULL;
    for (size_t i = 0; i < msg->n_children; i++)
        if (strcmp(msg->children[i]->name, field) == 0 && index-- == 0)
            return msg->children[i];
    return NULL;
}

static const sc_pt_node *find_last(const sc_pt_node *msg, const char *field)
{
    if (!msg || msg->kind != SC_PT_MESSAGE || !field)
        return NULL;
    for (size_t i = msg->n_children; i-- > 0;)
        if (strcmp(msg->children[i]->name, field) == 0)
            return msg->children[i];
    return NULL;
}

const char *sc_pt_describe(const sc_pt_node *node, char *buf, size_t size)
{
    char ex[4 * SC_PT_EXCERPT + 16];
    if (!node) {
        snprintf(buf, size, "nothing");
        return buf;
    }
    if (node->kind == SC_PT_MESSAGE) {
        snprintf(buf, size, "message block");
        return buf;
    }
    excerpt(node->text, node->text_len, ex, sizeof ex);
    switch (node->kind) {
    case SC_PT_STRING: snprintf(buf, size, "string \"%s\"", ex); break;
    case SC_PT_NUMBER: snprintf(buf, size, "number '%s'", ex); break;
    default: snprintf(buf, size, "identifier '%s'", ex); break;
    }
    return buf;
}

/* "FILE:L:C: <value> for 'field', expected <what>" */
static sc_status value_fail(const sc_pt_node *node, sc_error *err, const char *expected)
{
    char what[4 * SC_PT_EXCERPT + 32];
    return sc_fail(err, SC_ERR_PARSE, "%s:%d:%d: %s for '%s', expected %s", node->file, node->line, node->col,
                   sc_pt_describe(node, what, sizeof what), node->name, expected);
}

/* Magnitude of an unsigned integer literal (decimal, 0x hex, 0 octal).
 * Returns 0 on success, -1 if s is not an integer literal, -2 on overflow. */
static int parse_magnitude(const char *s, unsigned long long *out)
{
    unsigned base = 10;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    } else if (s[0] == '0' && s[1]) {
        base = 8;
    }
    if (!*s)
        return -1;
    unsigned long long v = 0;
    int overflow = 0;
    for (; *s; s++) {
        int d = hex_value((unsigned char)*s);
        if (d < 0 || (unsigned)d >= base)
            return -1;
        if (v > (~0ULL - (unsigned)d) / base)
            overflow = 1;
        v = v * base + (unsigned)d;
    }
    *out = v;
    return overflow ? -2 : 0;
}

int sc_pt_is_integer(const sc_pt_node *node)
{
    unsigned long long v;
    if (!node || node->kind != SC_PT_NUMBER)
        return 0;
    const char *s = node->text[0] == '-' ? node->text + 1 : node->text;
    return parse_magnitude(s, &v) != -1;
}

sc_status sc_pt_uint_at(const sc_pt_node *node, unsigned long long *out, sc_error *err)
{
    if (!sc_pt_is_integer(node))
        return node ? value_fail(node, err, "an integer") : sc_fail(err, SC_ERR_ARG, "sc_pt_uint_at: NULL node");
    if (node->text[0] == '-' || parse_magnitude(node->text, out) != 0)
        return value_fail(node, err, "an integer in 0..18446744073709551615");
    return SC_OK;
}

sc_status sc_pt_int_at(const sc_pt_node *node, long long *out, sc_error *err)
{
    unsigned long long mag;
    if (!sc_pt_is_integer(node))
        return node ? value_fail(node, err, "an integer") : sc_fail(err, SC_ERR_ARG, "sc_pt_int_at: NULL node");
    int neg = node->text[0] == '-';
    unsigned long long limit = neg ? (1ULL << 63) : (1ULL << 63) - 1;
    if (parse_magnitude(node->text + neg, &mag) != 0 || mag > limit)
        return value_fail(node, err, "an integer in -9223372036854775808..9223372036854775807");
    /* -(2^63) has no positive long long; build it without overflowing. */
    *out = neg ? (mag == (1ULL << 63) ? (-0x7fffffffffffffffLL - 1) : -(long long)mag) : (long long)mag;
    return SC_OK;
}

sc_status sc_pt_float_at(const sc_pt_node *node, double *out, sc_error *err)
{
    if (!node)
        return sc_fail(err, SC_ERR_ARG, "sc_pt_float_at: NULL node");
    int neg = node->kind != SC_PT_MESSAGE && node->text[0] == '-';
    const char *s = node->kind == SC_PT_MESSAGE ? "" : node->text + neg;
    if (node->kind == SC_PT_IDENT && ident_is_special_float(s, strlen(s))) {
        double v = (s[0] | 0x20) == 'n' ? NAN : INFINITY;
        *out = neg ? -v : v;
        return SC_OK;
    }
    if (node->kind != SC_PT_NUMBER)
        return value_fail(node, err, "a number");
    unsigned long long mag;
    if (parse_magnitude(s, &mag) != -1) {
        /* hex/octal integers: strtod would misread 010; overflow saturates like protobuf */
        double v = parse_magnitude(s, &mag) == 0 ? (double)mag : INFINITY;
        *out = neg ? -v : v;
        return SC_OK;
    }
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || (*end && !((*end == 'f' || *end == 'F') && end[1] == '\0')))
        return value_fail(node, err, "a number");
    *out = neg ? -v : v; /* ERANGE: inf or 0, as protobuf does */
    return SC_OK;
}

sc_status sc_pt_bool_at(const sc_pt_node *node, int *out, sc_error *err)
{
    if (!node)
        return sc_fail(err, SC_ERR_ARG, "sc_pt_bool_at: NULL node");
    if (node->kind == SC_PT_IDENT) {
        const char *t = node->text;
        if (!strcmp(t, "true") || !strcmp(t, "True") || !strcmp(t, "t")) {
            *out = 1;
            return SC_OK;
        }
        if (!strcmp(t, "false") || !strcmp(t, "False") || !strcmp(t, "f")) {
            *out = 0;
            return SC_OK;
        }
    } else if (sc_pt_is_integer(node) && node->text[0] != '-') {
        unsigned long long v;
        if (parse_magnitude(node->text, &v) == 0 && v <= 1) {
            *out = (int)v;
            return SC_OK;
        }
    }
    return value_fail(node, err, "true or false");
}

sc_status sc_pt_get_int(const sc_pt_node *msg, const char *field, long long def, long long *out, sc_error *err)
{
    const sc_pt_node *n = find_last(msg, field);
    if (!n) {
        *out = def;
        return SC_OK;
    }
    return sc_pt_int_at(n, out, err);
}

sc_status sc_pt_get_float(const sc_pt_node *msg, const char *field, double def, double *out, sc_error *err)
{
    const sc_pt_node *n = find_last(msg, field);
    if (!n) {
        *out = def;
        return SC_OK;
    }
    return sc_pt_float_at(n, out, err);
}

sc_status sc_pt_get_bool(const sc_pt_node *msg, const char *field, int def, int *out, sc_error *err)
{
    const sc_pt_node *n = find_last(msg, field);
    if (!n) {
        *out = def;
        return SC_OK;
    }
    return sc_pt_bool_at(n, out, err);
}

sc_status sc_pt_get_string(const sc_pt_node *msg, const char *field, const char *def, const char **out,
                           sc_error *err)
{
    const sc_pt_node *n = find_last(msg, field);
    if (!n) {
        *out = def;
        return SC_OK;
    }
    if (n->kind != SC_PT_STRING)
        return value_fail(n, err, "a quoted string");
    *out = n->text;
    return SC_OK;
}

sc_status sc_pt_get_enum(const sc_pt_node *msg, const char *field, const char *def, const char **out,
                         sc_error *err)
{
    const sc_pt_node *n = find_last(msg, field);
    if (!n) {
        *out = def;
        return SC_OK;
    }
    if (n->kind != SC_PT_IDENT || n->text[0] == '-')
        return value_fail(n, err, "an enum name (an unquoted identifier)");
    *out = n->text;
    return SC_OK;
}
