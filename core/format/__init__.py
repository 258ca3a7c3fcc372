"""The on-disk format, with one owner: names, statuses and record kinds (:mod:`.layout`),
atomic persistence, the journal and its one replay, the swarms mapping, naming and the lock.

``docs/FORMAT.md`` is the contract; everything that reads or writes a workspace goes through
these modules. Nothing here imports the rest of agent_tui.
"""
