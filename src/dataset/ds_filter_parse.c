/*
 * ds_filter_parse.c — the filter language's text: tokens, the grammar
 * below, NOT pushed into the leaves, and messages that point at the
 * offending token. Binding, pruning and evaluation are in ds_filter.c.
 *
 * Grammar (keywords case-insensitive):
 *   expr    := or
 *   or      := and (OR and)*
 *   and     := not (AND not)*
 *   not     := NOT not | primary
 *   primary := '(' expr ')' | TRUE | FALSE | pred
 *   pred    := name op literal | literal op name
 *            | name [NOT] IN '(' literal (',' literal)* ')'
 *            | name IS [NOT] NULL
 *   op      := = == != <> < <= > >=
 *   literal := number | 'string' ('' escapes ') | TRUE | FALSE
 *            | DATE 'YYYY-MM-DD' | TIMESTAMP 'YYYY-MM-DD HH:MM:SS[.f]'
 *   name    := identifier | "quoted name"
 *
 * SQL three-valued logic: a comparison with a null is NULL and a row is kept
 * only when the whole filter is TRUE. NOT is pushed into the leaves at parse
 * time (NOT a < 1 == a >= 1 under Kleene logic, De Morgan for AND/OR), so
 * pruning and evaluation only see AND/OR over leaves.
 *
 * Size limits (DS_FILTER_MAX_DEPTH, DS_FILTER_MAX_NODES): every walk over the
 * tree (here, in ds_filter.c) recurses, so the tree's height is what bounds
 * the stack. Parentheses and NOT count one level each while parsing, and a
 * chain a AND b AND c ... becomes a balanced tree (AND and OR are
 * associative in Kleene logic too), so a long flat list of terms costs
 * log2(terms) levels, not one per term.
 */
#include "dataset_internal.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum tok_kind {
    T_END,
    T_IDENT,
    T_QIDENT,
    T_NUMBER,
    T_STRING,
    T_LPAREN,
    T_RPAREN,
    T_COMMA,
    T_OP,
    T_AND,
    T_OR,
    T_NOT,
    T_IN,
    T_IS,
    T_NULL,
    T_TRUE,
    T_FALSE,
    T_DATE,
    T_TIMESTAMP,
    T_BAD
};

struct tok {
    enum tok_kind kind;
    int pos;
    int len;
    enum ds_cmp op;
};

struct parser {
    const char *s;
    struct tok t;
    struct ds_filter *f;
    int depth;    /* parentheses and NOTs open at the current token */
    size_t nodes; /* tree nodes so far (operators counted at their token) */
};

/* Expressions longer than this are quoted as a window around the error. */
#define ERR_WINDOW 60

hx_status hx_ds_filter_syntax_error(const char *expr, int pos, int len, const char *what) {
    /* The caret line is what makes a long expression's error findable; a
     * generated expression of megabytes is shown around the caret only. */
    size_t n = strlen(expr);
    if (pos < 0) pos = 0;
    if ((size_t)pos > n) pos = (int)n;
    if (len > ERR_WINDOW) len = ERR_WINDOW;
    size_t from = 0, to = n;
    if (n > 2 * ERR_WINDOW) {
        from = (size_t)pos > ERR_WINDOW ? (size_t)pos - ERR_WINDOW : 0;
        to = (size_t)pos + ERR_WINDOW < n ? (size_t)pos + ERR_WINDOW : n;
    }
    const char *pre = from > 0 ? "..." : "", *post = to < n ? "..." : "";
    int caret = (int)strlen(pre) + (pos - (int)from);
    struct hx_buf b;
    hx_buf_init(&b);
    hx_status st = hx_buf_printf(&b, "filter: %s at position %d", what, pos + 1);
    if (st == HOIST_OK && pos < (int)n) st = hx_buf_printf(&b, " ('%.*s')", len > 0 ? len : 1, expr + pos);
    if (st == HOIST_OK)
        st = hx_buf_printf(&b, "\n  %s%.*s%s\n  %*s^", pre, (int)(to - from), expr + from, post, caret, "");
    if (st != HOIST_OK) {
        hx_buf_reset(&b);
        return hx_error(HOIST_ERR_FILTER, "filter: %s at position %d", what, pos + 1);
    }
    st = hx_error(HOIST_ERR_FILTER, "%s", b.data);
    hx_buf_reset(&b);
    return st;
}

static bool kw(const char *s, int len, const char *word) {
    return (int)strlen(word) == len && strncasecmp(s, word, (size_t)len) == 0;
}

static void next_tok(struct parser *p) {
    const char *s = p->s;
    int i = p->t.pos + p->t.len;
    while (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') i++;
    struct tok t = {T_END, i, 0, DS_EQ};
    char c = s[i];
    if (c == '\0') {
        p->t = t;
        return;
    }
    if (c == '(' || c == ')' || c == ',') {
        t.kind = c == '(' ? T_LPAREN : c == ')' ? T_RPAREN : T_COMMA;
        t.len = 1;
    } else if (c == '=' || c == '!' || c == '<' || c == '>') {
        char d = s[i + 1];
        t.kind = T_OP;
        t.len = 1;
        if (c == '=') {
            t.op = DS_EQ;
            if (d == '=') t.len = 2;
        } else if (c == '!') {
            if (d == '=') {
                t.op = DS_NE;
                t.len = 2;
            } else
                t.kind = T_BAD;
        } else if (c == '<') {
            if (d == '=') {
                t.op = DS_LE;
                t.len = 2;
            } else if (d == '>') {
                t.op = DS_NE;
                t.len = 2;
            } else
                t.op = DS_LT;
        } else {
            if (d == '=') {
                t.op = DS_GE;
                t.len = 2;
            } else
                t.op = DS_GT;
        }
    } else if (c == '\'' || c == '"') {
        /* A doubled quote inside is the quote itself (SQL). */
        int j = i + 1;
        for (;;) {
            if (s[j] == '\0') {
                t.kind = T_BAD;
                break;
            }
            if (s[j] == c) {
                if (s[j + 1] == c) {
                    j += 2;
                    continue;
                }
                break;
            }
            j++;
        }
        if (t.kind != T_BAD) t.kind = c == '\'' ? T_STRING : T_QIDENT;
        t.len = (s[j] ? j + 1 : j) - i;
    } else if (isdigit((unsigned char)c) || c == '-' || c == '+' || (c == '.' && isdigit((unsigned char)s[i + 1]))) {
        int j = i;
        if (s[j] == '-' || s[j] == '+') j++;
        int digits = 0;
        while (isdigit((unsigned char)s[j]) || s[j] == '.') {
            digits += isdigit((unsigned char)s[j]) != 0;
            j++;
        }
        if (digits && (s[j] == 'e' || s[j] == 'E')) {
            int k = j + 1;
            if (s[k] == '-' || s[k] == '+') k++;
            if (isdigit((unsigned char)s[k])) {
                while (isdigit((unsigned char)s[k])) k++;
                j = k;
            }
        }
        t.kind = digits ? T_NUMBER : T_BAD;
        if (isalpha((unsigned char)s[j]) || s[j] == '_') t.kind = T_BAD;
        t.len = j - i > 0 ? j - i : 1;
    } else if (isalpha((unsigned char)c) || c == '_') {
        int j = i;
        while (isalnum((unsigned char)s[j]) || s[j] == '_' || s[j] == '.') j++;
        t.len = j - i;
        const char *w = s + i;
        t.kind = kw(w, t.len, "AND")         ? T_AND
                 : kw(w, t.len, "OR")        ? T_OR
                 : kw(w, t.len, "NOT")       ? T_NOT
                 : kw(w, t.len, "IN")        ? T_IN
                 : kw(w, t.len, "IS")        ? T_IS
                 : kw(w, t.len, "NULL")      ? T_NULL
                 : kw(w, t.len, "TRUE")      ? T_TRUE
                 : kw(w, t.len, "FALSE")     ? T_FALSE
                 : kw(w, t.len, "DATE")      ? T_DATE
                 : kw(w, t.len, "TIMESTAMP") ? T_TIMESTAMP
                                             : T_IDENT;
    } else {
        t.kind = T_BAD;
        t.len = 1;
    }
    p->t = t;
}

static hx_status err_here(struct parser *p, const char *what) {
    if (p->t.kind == T_END) return hx_ds_filter_syntax_error(p->s, p->t.pos, 0, "unexpected end of expression");
    if (p->t.kind == T_BAD) return hx_ds_filter_syntax_error(p->s, p->t.pos, p->t.len, "invalid token");
    return hx_ds_filter_syntax_error(p->s, p->t.pos, p->t.len, what);
}

/* Consumes the current token when it is of that kind. */
static bool accept(struct parser *p, enum tok_kind kind) {
    if (p->t.kind != kind) return false;
    next_tok(p);
    return true;
}

/* Consumes a token of that kind, or fails with `what` at the current one. */
static hx_status expect(struct parser *p, enum tok_kind kind, const char *what) {
    if (!accept(p, kind)) return err_here(p, what);
    return HOIST_OK;
}

static void node_free(struct ds_node *n) {
    if (!n) return;
    node_free(n->a);
    node_free(n->b);
    hx_free(n->column);
    for (size_t i = 0; i < n->nlits; i++) hx_free(n->lits[i].s);
    hx_free(n->lits);
    hx_free(n);
}

void hx_ds_filter_free(struct ds_filter *f) {
    if (!f) return;
    node_free(f->root);
    for (size_t i = 0; i < f->ncolumns; i++) hx_free(f->columns[i]);
    hx_free(f->columns);
    hx_free(f->text);
    hx_free(f);
}

static struct ds_node *node_new(enum ds_node_kind kind) {
    struct ds_node *n = hx_calloc(1, sizeof *n);
    if (n) {
        n->kind = kind;
        n->column_pos = -1;
        n->col = -1;
        n->fcol = -1;
    }
    return n;
}

/* Counts one more node at the token at pos (the limit stops a generated
 * expression of millions of terms before it is built). */
static hx_status count_node(struct parser *p, int pos) {
    if (++p->nodes <= DS_FILTER_MAX_NODES) return HOIST_OK;
    char what[96];
    snprintf(what, sizeof what, "expression too large (more than %d terms and operators)", DS_FILTER_MAX_NODES);
    return hx_ds_filter_syntax_error(p->s, pos, 1, what);
}

static hx_status too_deep(struct parser *p, int pos) {
    char what[96];
    snprintf(what, sizeof what, "expression nested too deeply (more than %d levels)", DS_FILTER_MAX_DEPTH);
    return hx_ds_filter_syntax_error(p->s, pos, 1, what);
}

/* Opens one level of parentheses or NOT at the current token. */
static hx_status enter(struct parser *p) {
    if (++p->depth > DS_FILTER_MAX_DEPTH) return too_deep(p, p->t.pos);
    return HOIST_OK;
}

/* Unquotes a quoted token (doubled quotes -> one). */
static char *unquote(const char *s, int len, size_t *outlen) {
    char q = s[0];
    char *r = hx_malloc((size_t)len + 1);
    if (!r) return NULL;
    size_t k = 0;
    for (int i = 1; i < len - 1; i++) {
        r[k++] = s[i];
        if (s[i] == q && s[i + 1] == q) i++;
    }
    r[k] = '\0';
    if (outlen) *outlen = k;
    return r;
}

static hx_status parse_column(struct parser *p, struct ds_node *n) {
    if (p->t.kind == T_IDENT)
        n->column = hx_strndup(p->s + p->t.pos, (size_t)p->t.len);
    else if (p->t.kind == T_QIDENT)
        n->column = unquote(p->s + p->t.pos, p->t.len, NULL);
    else
        return err_here(p, "expected a column name");
    if (!n->column) return hx_error(HOIST_ERR_NOMEM, "filter: out of memory");
    n->column_pos = p->t.pos;
    next_tok(p);
    return HOIST_OK;
}

static bool is_literal_start(enum tok_kind k) {
    return k == T_NUMBER || k == T_STRING || k == T_TRUE || k == T_FALSE || k == T_DATE || k == T_TIMESTAMP;
}

static hx_status parse_literal(struct parser *p, struct ds_lit *lit) {
    memset(lit, 0, sizeof *lit);
    lit->pos = p->t.pos;
    const char *w = p->s + p->t.pos;
    switch (p->t.kind) {
    case T_NUMBER: {
        char buf[64];
        if (p->t.len >= (int)sizeof buf) return err_here(p, "number too long");
        memcpy(buf, w, (size_t)p->t.len);
        buf[p->t.len] = '\0';
        bool is_int = strpbrk(buf, ".eE") == NULL;
        char *end = NULL;
        if (is_int) {
            errno = 0;
            long long v = strtoll(buf, &end, 10);
            if (*end) return err_here(p, "bad number");
            unsigned long long u = 0;
            if (errno == ERANGE && buf[0] != '-') {
                /* Above int64 but within uint64: exact, for uint64 columns
                 * (as a double, 2^63 + 1 would equal 2^63). */
                errno = 0;
                u = strtoull(buf, &end, 10);
            }
            if (errno == 0 && u) {
                lit->kind = DS_L_INT;
                lit->i = (__int128)u;
            } else if (errno == ERANGE) {
                /* Beyond 64 bits: still a valid literal for a decimal(38)
                 * column (bound from its text) or a float one. */
                lit->kind = DS_L_FLOAT;
                lit->d = strtod(buf, NULL);
            } else if (errno) {
                return err_here(p, "bad number");
            } else {
                lit->kind = DS_L_INT;
                lit->i = v;
            }
        } else {
            double d = strtod(buf, &end);
            if (*end || !isfinite(d)) return err_here(p, "bad number");
            lit->kind = DS_L_FLOAT;
            lit->d = d;
        }
        break;
    }
    case T_STRING:
        lit->kind = DS_L_STRING;
        lit->s = unquote(w, p->t.len, &lit->slen);
        if (!lit->s) return hx_error(HOIST_ERR_NOMEM, "filter: out of memory");
        break;
    case T_TRUE:
    case T_FALSE:
        lit->kind = DS_L_BOOL;
        lit->i = p->t.kind == T_TRUE;
        break;
    case T_DATE:
    case T_TIMESTAMP: {
        bool date = p->t.kind == T_DATE;
        next_tok(p);
        if (p->t.kind != T_STRING)
            return err_here(p,
                            date ? "expected 'YYYY-MM-DD' after DATE" : "expected a quoted timestamp after TIMESTAMP");
        lit->pos = p->t.pos;
        lit->s = unquote(p->s + p->t.pos, p->t.len, &lit->slen);
        if (!lit->s) return hx_error(HOIST_ERR_NOMEM, "filter: out of memory");
        int64_t v;
        if (date ? !hx_parse_date(lit->s, lit->slen, &v) : !hx_ds_parse_timestamp_us(lit->s, lit->slen, &v))
            return err_here(p, date ? "bad date (expected 'YYYY-MM-DD')" : "bad timestamp");
        lit->kind = date ? DS_L_DATE : DS_L_TIMESTAMP;
        lit->i = v;
        break;
    }
    case T_NULL: return err_here(p, "comparison with NULL is never true (use IS NULL)");
    default: return err_here(p, "expected a literal");
    }
    next_tok(p);
    return HOIST_OK;
}

static enum ds_cmp flip(enum ds_cmp op) {
    switch (op) {
    case DS_LT: return DS_GT;
    case DS_LE: return DS_GE;
    case DS_GT: return DS_LT;
    case DS_GE: return DS_LE;
    default: return op;
    }
}

static hx_status parse_expr(struct parser *p, struct ds_node **out);

/* A comparison's one literal, into n->lits[0]. */
static hx_status parse_single_literal(struct parser *p, struct ds_node *n) {
    n->lits = hx_calloc(1, sizeof *n->lits);
    if (!n->lits) return hx_error(HOIST_ERR_NOMEM, "filter: out of memory");
    n->nlits = 1;
    return parse_literal(p, &n->lits[0]);
}

static hx_status parse_pred(struct parser *p, struct ds_node **out) {
    HX_TRY(count_node(p, p->t.pos));
    struct ds_node *n = node_new(DS_N_CMP);
    if (!n) return hx_error(HOIST_ERR_NOMEM, "filter: out of memory");
    hx_status st = HOIST_OK;
    if (is_literal_start(p->t.kind)) {
        /* literal op column: flip into column op literal. */
        if ((st = parse_single_literal(p, n)) != HOIST_OK) goto fail;
        if (p->t.kind != T_OP) {
            st = err_here(p, "expected a comparison operator");
            goto fail;
        }
        n->op = flip(p->t.op);
        next_tok(p);
        if ((st = parse_column(p, n)) != HOIST_OK) goto fail;
        *out = n;
        return HOIST_OK;
    }
    if ((st = parse_column(p, n)) != HOIST_OK) goto fail;
    if (p->t.kind == T_OP) {
        n->op = p->t.op;
        next_tok(p);
        if (p->t.kind == T_IDENT || p->t.kind == T_QIDENT) {
            st = err_here(p, "comparing two columns is not supported (expected a literal)");
            goto fail;
        }
        if ((st = parse_single_literal(p, n)) != HOIST_OK) goto fail;
    } else if (p->t.kind == T_IS) {
        n->kind = DS_N_IS_NULL;
        next_tok(p);
        n->negate = accept(p, T_NOT);
        if ((st = expect(p, T_NULL, "expected NULL")) != HOIST_OK) goto fail;
    } else if (p->t.kind == T_IN || p->t.kind == T_NOT) {
        n->kind = DS_N_IN;
        n->negate = accept(p, T_NOT);
        if ((st = expect(p, T_IN, "expected IN")) != HOIST_OK) goto fail;
        if ((st = expect(p, T_LPAREN, "expected '(' after IN")) != HOIST_OK) goto fail;
        size_t cap = 0;
        for (;;) {
            if (n->nlits == cap) {
                size_t ncap = cap ? cap * 2 : 4;
                struct ds_lit *nl = hx_realloc(n->lits, ncap * sizeof *nl);
                if (!nl) {
                    st = hx_error(HOIST_ERR_NOMEM, "filter: out of memory");
                    goto fail;
                }
                n->lits = nl;
                cap = ncap;
            }
            n->nlits++;
            if ((st = parse_literal(p, &n->lits[n->nlits - 1])) != HOIST_OK) {
                /* the failed literal may hold nothing or a string */
                goto fail;
            }
            if (p->t.kind == T_COMMA) {
                next_tok(p);
                continue;
            }
            if (p->t.kind == T_RPAREN) {
                next_tok(p);
                break;
            }
            st = err_here(p, "expected ',' or ')' in the IN list");
            goto fail;
        }
    } else {
        st = err_here(p, "expected a comparison operator, IN or IS");
        goto fail;
    }
    *out = n;
    return HOIST_OK;
fail:
    node_free(n);
    return st;
}

static hx_status parse_primary(struct parser *p, struct ds_node **out) {
    if (p->t.kind == T_LPAREN) {
        int open_pos = p->t.pos;
        HX_TRY(enter(p));
        next_tok(p);
        HX_TRY(parse_expr(p, out));
        p->depth--;
        if (p->t.kind != T_RPAREN) {
            node_free(*out);
            *out = NULL;
            if (p->t.kind == T_END) return hx_ds_filter_syntax_error(p->s, open_pos, 1, "unclosed '('");
            return err_here(p, "expected ')'");
        }
        next_tok(p);
        return HOIST_OK;
    }
    if ((p->t.kind == T_TRUE || p->t.kind == T_FALSE)) {
        /* A bare TRUE/FALSE (not "TRUE = col"). */
        struct parser save = *p;
        bool v = p->t.kind == T_TRUE;
        next_tok(p);
        if (p->t.kind != T_OP) {
            HX_TRY(count_node(p, save.t.pos));
            struct ds_node *n = node_new(DS_N_CONST);
            if (!n) return hx_error(HOIST_ERR_NOMEM, "filter: out of memory");
            n->const_value = v;
            *out = n;
            return HOIST_OK;
        }
        *p = save;
    }
    if (p->t.kind == T_END) return err_here(p, "");
    return parse_pred(p, out);
}

static hx_status parse_not(struct parser *p, struct ds_node **out) {
    if (p->t.kind == T_NOT) {
        int pos = p->t.pos;
        HX_TRY(enter(p));
        HX_TRY(count_node(p, pos));
        next_tok(p);
        struct ds_node *inner = NULL;
        HX_TRY(parse_not(p, &inner));
        p->depth--;
        struct ds_node *n = node_new(DS_N_NOT);
        if (!n) {
            node_free(inner);
            return hx_error(HOIST_ERR_NOMEM, "filter: out of memory");
        }
        n->a = inner;
        n->height = inner->height + 1;
        if (n->height > DS_FILTER_MAX_DEPTH) {
            node_free(n);
            return too_deep(p, pos);
        }
        *out = n;
        return HOIST_OK;
    }
    return parse_primary(p, out);
}

/* The operands of one chain a OP b OP c ..., with the position of the
 * operator before each (for messages). */
struct chain {
    struct ds_node **v;
    int *op_pos;
    size_t n, cap;
};

static void chain_free(struct chain *c) {
    for (size_t i = 0; i < c->n; i++) node_free(c->v[i]);
    hx_free(c->v);
    hx_free(c->op_pos);
}

static hx_status chain_push(struct chain *c, struct ds_node *node, int op_pos) {
    if (c->n == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 8;
        struct ds_node **nv = hx_realloc(c->v, nc * sizeof *nv);
        if (nv) c->v = nv;
        int *np = nv ? hx_realloc(c->op_pos, nc * sizeof *np) : NULL;
        if (!nv || !np) {
            node_free(node);
            return hx_error(HOIST_ERR_NOMEM, "filter: out of memory");
        }
        c->op_pos = np;
        c->cap = nc;
    }
    c->v[c->n] = node;
    c->op_pos[c->n] = op_pos;
    c->n++;
    return HOIST_OK;
}

/* Joins the chain into a balanced tree, left-to-right order kept: each pass
 * pairs neighbours, halving the count. On failure every node still in the
 * chain is freed by the caller (chain_free): a pass keeps v[0..n) whole. */
static hx_status chain_build(struct parser *p, struct chain *c, enum ds_node_kind kind) {
    while (c->n > 1) {
        size_t out = 0, i = 0;
        for (; i + 1 < c->n; i += 2) {
            struct ds_node *a = c->v[i], *b = c->v[i + 1];
            int height = (a->height > b->height ? a->height : b->height) + 1;
            hx_status st = height > DS_FILTER_MAX_DEPTH ? too_deep(p, c->op_pos[i + 1]) : HOIST_OK;
            struct ds_node *n = st == HOIST_OK ? node_new(kind) : NULL;
            if (st == HOIST_OK && !n) st = hx_error(HOIST_ERR_NOMEM, "filter: out of memory");
            if (st != HOIST_OK) {
                /* close the gap [out, i) so v[0..n) holds every live node */
                memmove(&c->v[out], &c->v[i], (c->n - i) * sizeof *c->v);
                c->n -= i - out;
                return st;
            }
            n->a = a;
            n->b = b;
            n->height = height;
            c->v[out] = n;
            c->op_pos[out] = c->op_pos[i];
            out++;
        }
        if (i < c->n) {
            c->v[out] = c->v[i];
            c->op_pos[out] = c->op_pos[i];
            out++;
        }
        c->n = out;
    }
    return HOIST_OK;
}

static hx_status parse_binary(struct parser *p, enum tok_kind op, struct ds_node **out) {
    struct ds_node *first = NULL;
    HX_TRY(op == T_OR ? parse_binary(p, T_AND, &first) : parse_not(p, &first));
    if (p->t.kind != op) {
        *out = first;
        return HOIST_OK;
    }
    struct chain c = {0};
    hx_status st = chain_push(&c, first, p->t.pos);
    while (st == HOIST_OK && p->t.kind == op) {
        int op_pos = p->t.pos;
        if ((st = count_node(p, op_pos)) != HOIST_OK) break;
        next_tok(p);
        struct ds_node *right = NULL;
        st = op == T_OR ? parse_binary(p, T_AND, &right) : parse_not(p, &right);
        if (st == HOIST_OK) st = chain_push(&c, right, op_pos);
    }
    if (st == HOIST_OK) st = chain_build(p, &c, op == T_OR ? DS_N_OR : DS_N_AND);
    if (st != HOIST_OK) {
        chain_free(&c);
        return st;
    }
    *out = c.v[0];
    c.n = 0;
    chain_free(&c);
    return HOIST_OK;
}

static hx_status parse_expr(struct parser *p, struct ds_node **out) { return parse_binary(p, T_OR, out); }

static enum ds_cmp negate_cmp(enum ds_cmp op) {
    switch (op) {
    case DS_EQ: return DS_NE;
    case DS_NE: return DS_EQ;
    case DS_LT: return DS_GE;
    case DS_LE: return DS_GT;
    case DS_GT: return DS_LE;
    default: return DS_LT;
    }
}

/* Pushes NOT into the leaves; neg says whether an odd number of NOTs is
 * above n. Returns the node that replaces n. */
static struct ds_node *push_not(struct ds_node *n, bool neg) {
    switch (n->kind) {
    case DS_N_NOT: {
        struct ds_node *inner = n->a;
        n->a = NULL;
        node_free(n);
        return push_not(inner, !neg);
    }
    case DS_N_AND:
    case DS_N_OR:
        if (neg) n->kind = n->kind == DS_N_AND ? DS_N_OR : DS_N_AND;
        n->a = push_not(n->a, neg);
        n->b = push_not(n->b, neg);
        return n;
    case DS_N_CMP:
        if (neg) n->op = negate_cmp(n->op);
        return n;
    case DS_N_IN:
    case DS_N_IS_NULL:
        if (neg) n->negate = !n->negate;
        return n;
    case DS_N_CONST:
        if (neg) n->const_value = !n->const_value;
        return n;
    }
    return n;
}

/* The distinct column names in first-use order, each leaf noting its own
 * (fcol): a hash set keeps a filter over many thousands of columns linear. */
struct colset {
    int *slot; /* index into f->columns, -1 = empty */
    size_t mask;
};

static size_t count_leaves(const struct ds_node *n) {
    return !n ? 0 : (n->column != NULL) + count_leaves(n->a) + count_leaves(n->b);
}

static hx_status collect_node(struct ds_filter *f, struct colset *set, struct ds_node *n) {
    if (!n) return HOIST_OK;
    HX_TRY(collect_node(f, set, n->a));
    HX_TRY(collect_node(f, set, n->b));
    if (!n->column) return HOIST_OK;
    size_t h = (size_t)hx_ds_hash_str(n->column, strlen(n->column)) & set->mask;
    while (set->slot[h] >= 0) {
        if (strcmp(f->columns[set->slot[h]], n->column) == 0) {
            n->fcol = set->slot[h];
            return HOIST_OK;
        }
        h = (h + 1) & set->mask;
    }
    if (!(f->columns[f->ncolumns] = hx_strdup(n->column))) return hx_error(HOIST_ERR_NOMEM, "filter: out of memory");
    n->fcol = set->slot[h] = (int)f->ncolumns++;
    return HOIST_OK;
}

static hx_status collect_columns(struct ds_filter *f) {
    size_t leaves = count_leaves(f->root), size = 16;
    while (size < 2 * leaves) size *= 2;
    struct colset set = {hx_malloc(size * sizeof *set.slot), size - 1};
    f->columns = hx_calloc(leaves ? leaves : 1, sizeof *f->columns);
    if (!set.slot || !f->columns) {
        hx_free(set.slot);
        return hx_error(HOIST_ERR_NOMEM, "filter: out of memory");
    }
    memset(set.slot, 0xff, size * sizeof *set.slot);
    hx_status st = collect_node(f, &set, f->root);
    hx_free(set.slot);
    return st;
}

hx_status hx_ds_filter_parse(const char *expr, struct ds_filter **out) {
    *out = NULL;
    if (!expr) return hx_error(HOIST_ERR_INVALID_ARG, "filter: NULL expression");
    struct ds_filter *f = hx_calloc(1, sizeof *f);
    if (!f) return hx_error(HOIST_ERR_NOMEM, "filter: out of memory");
    if (!(f->text = hx_strdup(expr))) {
        hx_free(f);
        return hx_error(HOIST_ERR_NOMEM, "filter: out of memory");
    }
    struct parser p = {f->text, {T_END, 0, 0, DS_EQ}, f, 0, 0};
    next_tok(&p);
    hx_status st;
    if (p.t.kind == T_END) {
        st = hx_ds_filter_syntax_error(f->text, 0, 0, "empty expression");
        goto fail;
    }
    if ((st = parse_expr(&p, &f->root)) != HOIST_OK) goto fail;
    if (p.t.kind != T_END) {
        st = err_here(&p, "unexpected token (expected AND, OR or the end)");
        goto fail;
    }
    f->root = push_not(f->root, false);
    if ((st = collect_columns(f)) != HOIST_OK) goto fail;
    *out = f;
    return HOIST_OK;
fail:
    hx_ds_filter_free(f);
    return st;
}
