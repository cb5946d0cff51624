"""Customers on distribution transformers and feeders: their loads, load balance and AC
power flow (pandapower) on each transformer's low-voltage network (docs/network.md).

* :mod:`sim.network.placement`: which customers sit on which transformer, feeder and load
  point, and the engine's per-piece sums (numpy only);
* :mod:`sim.network.grids`: the pandapower networks (shipped or a JSON file);
* :mod:`sim.network.inputs`: the network's files (power-flow network, topology) checked before any work;
* :mod:`sim.network.loads`: the transformers' and feeders' load series and their load balance;
* :mod:`sim.network.powerflow`: the time-series power flow on the chosen steps;
* :mod:`sim.network.analysis`: a run's network results, on Dask workers or here;
* :mod:`sim.network.tables`: the run folder's network tables.
"""
