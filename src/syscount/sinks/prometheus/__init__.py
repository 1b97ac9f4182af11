"""The Prometheus exporter (``syscount serve``): kernel counters read at scrape time.

Data still flows one way: the reading layer reads the kernel (``sources``), the reading
is plain data (``Totals``), rendering it into metric families is a pure function
(``metrics``). ``folding`` caps label cardinality, ``bpfstats`` reports the programs'
own cost, ``http`` serves it all, and ``collector`` ties one scrape together.
"""
