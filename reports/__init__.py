"""Reports: pure renderers from results to self-contained HTML, and the Allure builder.

- :mod:`reports.simulation`: one campaign run (``result.json``) -> an HTML page;
- :mod:`reports.sweep`: a sweep (``campaign.json``) -> a comparison page;
- :mod:`reports.decision`: the export-strategy decision (``decision.json``) -> answers,
  a recommendation per regime and the crossover;
- :mod:`reports.terminal`: the same results as rich tables for a terminal;
- :mod:`reports.allure`: the Allure 3 report of a test run.

Renderers take plain data (the JSON the campaigns write) and return text; they never run a
simulation, so ``hvsnap report --simulation DIR`` rebuilds a page from a saved result.
Plots are matplotlib figures (Agg backend) embedded as SVG. Nothing but the front ends
(the CLI) imports this package.
"""
