"""Every chart the product draws, in one package, all with matplotlib's Agg backend (no display):

- ``metadata``: a PNG embedded in materialization metadata (the Dagster UI shows it) and saved
  under data/reports/;
- ``assets``: the charts of the assets (media-mix model, attribution, personas, forecast fan chart);
- ``answers``: the charts of `gtm ask` answers and the executive report (matplotlib imported only
  when one is drawn, so the command starts fast).
"""
