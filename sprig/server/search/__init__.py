"""Retrieval: chunking, full text (FTS5), exact vector search, fusion and MMR.

Pure pieces the store calls; nothing here knows about HTTP or SQLAlchemy. A search is:

1. ``options = ranking.RankOptions(mode, limit, alpha, confidence, mmr_strength, ...)``
2. ``text_hits = fts.bm25_search(conn, text, limit=options.pool, scope_sql=...)``
   (SQLite; PostgreSQL computes its own text relevance, higher = better)
3. ``vector_hits = index.search(query_vector, options.pool, allowed=chunk_ids)``
   (``vector.VectorIndex``; the query is embedded server-side when only text is given)
4. ``ranking.rank(text_hits, vector_hits, doc_of, options, index.vectors)`` gives the docs,
   best first, each with its best chunk (the snippet) and final score.

At ingestion, ``chunking.chunk_document`` splits content and gives each chunk's embedding
text (title first); ``fts.schema_sql`` creates the FTS5 tables whose triggers index chunks.
"""
