"""Bundled answer-quality evaluation for the retrieval assistant (``python -m evals run``).

Modules: ``dataset`` (cases.jsonl and its validation), ``metrics`` (pure metric functions),
``systems`` (the assistant and the tutorial LangChain baseline behind one interface),
``runner`` (the run, aggregation, regression gate), ``report`` (report.md, results.json,
charts) and ``judge`` (the optional LLM judge). See evals/README.md.
"""
