-- minirank's stage one on PostgreSQL + pgvector (>= 0.8): the documents with their bi-encoder
-- vectors, an HNSW index for the dense top-k, a full-text column for the lexical top-k, the
-- bi-encoder that embedded them, and one function that returns the union of both top-k lists.
-- `minirank export --schema [--table NAME]` prints this file with its placeholders filled in:
-- {table} (the table; the function is {table}_candidates), {dim} (the bi-encoder's dimension),
-- {fingerprint} (the bi-encoder's fingerprint) and {config} (the text search configuration).
-- Rows are loaded with `\copy {table} (id, text, metadata, parent, embedding) FROM 'FILE'`, FILE
-- written by `minirank export --to pgvector`, then `REFRESH MATERIALIZED VIEW {table}_words` (and
-- again after large changes: it keeps the full-text list's work bounded, see below).

CREATE EXTENSION IF NOT EXISTS vector;

CREATE TABLE IF NOT EXISTS {table} (
    id text PRIMARY KEY,
    text text NOT NULL,
    metadata jsonb NOT NULL DEFAULT '{}',
    parent text,
    embedding vector({dim}) NOT NULL,
    tsv tsvector GENERATED ALWAYS AS (to_tsvector('{config}', text)) STORED
);

-- The dense top-k: cosine distance (the vectors are unit length, so 1 - distance is the cosine).
CREATE INDEX IF NOT EXISTS {table}_embedding_idx ON {table} USING hnsw (embedding vector_cosine_ops);
-- The lexical top-k.
CREATE INDEX IF NOT EXISTS {table}_tsv_idx ON {table} USING gin (tsv);
-- Metadata filters (`metadata @> filter`).
CREATE INDEX IF NOT EXISTS {table}_metadata_idx ON {table} USING gin (metadata jsonb_path_ops);

-- How many rows hold each word: the full-text list scans the rows of the query's rarest words.
-- (The table as a regclass: a refresh runs with search_path = pg_catalog, the name then qualified.)
CREATE MATERIALIZED VIEW IF NOT EXISTS {table}_words AS
    SELECT word, ndoc FROM ts_stat(format('SELECT tsv FROM %s', '{table}'::regclass));
CREATE UNIQUE INDEX IF NOT EXISTS {table}_words_idx ON {table}_words (word);

-- Which bi-encoder embedded each table: a client with another one is refused.
CREATE TABLE IF NOT EXISTS minirank_tables (
    name text PRIMARY KEY,
    fingerprint bigint NOT NULL,
    dimension int NOT NULL
);
INSERT INTO minirank_tables (name, fingerprint, dimension) VALUES ('{table}', {fingerprint}, {dim})
    ON CONFLICT (name) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, dimension = EXCLUDED.dimension;
COMMENT ON TABLE {table} IS 'minirank documents: bi-encoder fingerprint {fingerprint}, dimension {dim}';

-- The candidates for one query: the union of the k nearest by cosine (HNSW) and the k best by
-- ts_rank_cd over the query's words joined by OR, both among the rows whose metadata contains
-- `filter` when it is given. Each row carries both signals: `similarity` (1 - cosine distance)
-- and `lexical` (ts_rank_cd, 0 when no word matches). The full-text list ranks only the rows that
-- hold one of the query's rarest words, as many words as hold at most `max_matches` rows together
-- by {table}_words (always the rarest one): a word found in half the corpus would otherwise have
-- every such row ranked. Words {table}_words does not know yet count as rare. Full-text ties go
-- to the smaller id, so that the same query gets the same candidates.
DROP FUNCTION IF EXISTS {table}_candidates(text, vector, int, jsonb);
CREATE OR REPLACE FUNCTION {table}_candidates(query_text text, query_embedding vector, k int, filter jsonb DEFAULT NULL,
                                              max_matches int DEFAULT 5000)
RETURNS TABLE (id text, text text, metadata jsonb, parent text, similarity double precision, lexical real)
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
DECLARE
    q tsquery := replace(plainto_tsquery('{config}', coalesce(query_text, ''))::text, '&', '|')::tsquery;
    scan tsquery;
    w record;
BEGIN
    -- the query's words, rarest first, with the rows of the rarer ones before each
    FOR w IN
        SELECT lexeme, ndoc, sum(ndoc) OVER (ORDER BY ndoc, lexeme) - ndoc AS before
        FROM (SELECT t.lexeme, coalesce(s.ndoc, 0) AS ndoc
              FROM unnest(tsvector_to_array(to_tsvector('{config}', coalesce(query_text, '')))) AS t(lexeme)
              LEFT JOIN {table}_words s ON s.word = t.lexeme) counted
        ORDER BY ndoc, lexeme
    LOOP
        EXIT WHEN scan IS NOT NULL AND w.before + w.ndoc > max_matches;
        scan := CASE WHEN scan IS NULL THEN quote_literal(w.lexeme)::tsquery ELSE scan || quote_literal(w.lexeme)::tsquery END;
    END LOOP;
    -- the HNSW scan returns at most ef_search rows, and finds more of the true top-k the larger
    -- it is (pgvector's default is 40); iterative scans keep filling the top-k when the filter
    -- drops rows
    PERFORM set_config('hnsw.ef_search', greatest(100, least(2 * k, 1000))::text, true);
    PERFORM set_config('hnsw.iterative_scan', 'relaxed_order', true);
    RETURN QUERY
    WITH dense AS (
        SELECT d.id AS hit FROM {table} d
        WHERE filter IS NULL OR d.metadata @> filter
        ORDER BY d.embedding <=> query_embedding
        LIMIT k
    ), words AS (
        SELECT d.id AS hit FROM {table} d
        WHERE d.tsv @@ scan AND (filter IS NULL OR d.metadata @> filter)
        ORDER BY ts_rank_cd(d.tsv, q) DESC, d.id
        LIMIT k
    )
    SELECT d.id, d.text, d.metadata, d.parent,
           1 - (d.embedding <=> query_embedding)::double precision,
           ts_rank_cd(d.tsv, q)
    FROM {table} d
    WHERE d.id IN (SELECT hit FROM dense UNION SELECT hit FROM words);
END
$$;
