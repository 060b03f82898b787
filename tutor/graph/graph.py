"""The answer graph: context → condense → retrieve → plan → draft (streaming sentences), or an
off-syllabus reply, or (hint-first) a guiding question and a clue instead of the answer.

The graph reports to its caller through typed events only (``state.AnswerGraphEvent`` on LangGraph's
custom stream): the passages retrieved, an off-syllabus reply, each drafted sentence the moment it
is complete (the answer plan's syllabus sentences first, then the model's; the verifier checks each
while the rest is still being generated), stage timings and the model that drafted.
"""

from typing import Literal

from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from . import nodes
from .state import AnswerState


def route_after_retrieve(state: AnswerState) -> Literal["plan", "hint", "answer_off_syllabus"]:
    if not (state.on_syllabus and state.passages):
        return "answer_off_syllabus"
    return "hint" if state.hint_first else "plan"


def build_answer_graph() -> CompiledStateGraph[AnswerState]:
    builder = StateGraph(AnswerState)
    builder.add_node("load_context", nodes.load_context)
    builder.add_node("condense", nodes.condense)
    builder.add_node("retrieve", nodes.retrieve)
    builder.add_node("plan", nodes.plan)
    builder.add_node("draft", nodes.draft)
    builder.add_node("answer_off_syllabus", nodes.answer_off_syllabus)
    builder.add_node("hint", nodes.hint)
    builder.add_edge(START, "load_context")
    builder.add_edge("load_context", "condense")
    builder.add_edge("condense", "retrieve")
    builder.add_conditional_edges("retrieve", route_after_retrieve)
    builder.add_edge("plan", "draft")
    builder.add_edge("draft", END)
    builder.add_edge("answer_off_syllabus", END)
    builder.add_edge("hint", END)
    return builder.compile()


answer_graph = build_answer_graph()
