"""Retrieval: chunking, BM25 and exact vector search over an in-memory corpus, fusion, MMR;
the search service, its corpus cache, the PostgreSQL path and ``POST .../search``.

``service`` (``SearchService``), ``cache`` (a tenant's corpus, kept in step with the store),
``postgres`` (the same search in SQL) and ``routes`` do I/O; ``options`` holds the pydantic
models of what a search or a recall asks; the rest are pure pieces that know nothing of
HTTP or SQLAlchemy. A search is:

1. ``options = ranking.RankOptions(mode, limit, alpha, confidence, mmr_strength, ...)``,
   from a request body or a session's ``recall_options`` (``options.SearchOptions`` and
   ``options.RecallOptions``: the one place their fields and defaults are defined)
2. ``mask = corpus.mask(owners, docs)``: the scope, over a tenant's ``corpus.Corpus``
3. ``corpus.text_search(text, mask, options.pool)`` (BM25, ``lexical``) and
   ``corpus.vector_search(vector, mask, options.pool)`` (exact cosine); PostgreSQL runs
   both in SQL instead (tsvector and pgvector), with the same hit shape
4. ``ranking.rank(text_hits, vector_hits, doc_of, options, corpus.vectors)`` gives the docs,
   best first, each with its best chunk (the snippet) and final score.

``language`` maps ISO 639-1 codes to language names for both text analysers: the Snowball
stemmers of ``lexical`` (used by memory search too) and PostgreSQL's configurations.

At ingestion, ``chunking.chunk_document`` splits content and gives each chunk's embedding
text (title first). ``fts`` keeps the FTS5 DDL of past migrations and query helpers.
"""
