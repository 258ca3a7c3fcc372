"""The autosaving agent (:class:`Agent`), a facade over its parts."""

from agent_tui.agent.agent import Agent, AgentEvent, AgentInterrupted, StateFileError

__all__ = ["Agent", "AgentEvent", "AgentInterrupted", "StateFileError"]
