"""The verifier graph, run once per answer sentence:

split into claims → gather evidence (answer passages + per-claim retrieval) → score entailment →
supported: done; otherwise one revision from the evidence and a re-check; still failing: done,
with the failing verdict (the caller withholds or marks the sentence per the curriculum policy).
"""

from typing import Literal

from langgraph.graph import START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from . import nodes
from .state import VerifyState

MAX_REVISIONS = 1


def route_after_score(state: VerifyState) -> Literal["revise", "__end__"]:
    if state.verdict == "supported" or not state.allow_revision or state.attempt >= MAX_REVISIONS:
        return "__end__"
    return "revise"


def route_after_revise(state: VerifyState) -> Literal["split", "__end__"]:
    # Without a new sentence (the LLM was down) there is nothing to re-check.
    return "__end__" if state.revision_error else "split"


def build_verifier_graph() -> CompiledStateGraph[VerifyState]:
    builder = StateGraph(VerifyState)
    builder.add_node("split", nodes.split)
    builder.add_node("gather_evidence", nodes.gather_evidence)
    builder.add_node("score", nodes.score)
    builder.add_node("revise", nodes.revise)
    builder.add_edge(START, "split")
    builder.add_edge("split", "gather_evidence")
    builder.add_edge("gather_evidence", "score")
    builder.add_conditional_edges("score", route_after_score)
    builder.add_conditional_edges("revise", route_after_revise)
    return builder.compile()


verifier_graph = build_verifier_graph()
