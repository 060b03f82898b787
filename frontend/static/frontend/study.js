// The study page: asks the tutor over its websocket and shows each verified sentence as it
// arrives. Protocol: docs/websocket-protocol.md. No framework, no build step.
"use strict";

(() => {
  const root = document.getElementById("study");
  if (!root) return;

  const curriculum = root.dataset.curriculum;
  const socketUrl = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + root.dataset.socketPath;
  const messageUrl = (clientMsgId) =>
    root.dataset.messageUrl.replace(root.dataset.messageUrlPlaceholder, encodeURIComponent(clientMsgId));
  const passageUrl = (chunkId) =>
    root.dataset.passageUrl.replace(root.dataset.passageUrlPlaceholder, encodeURIComponent(String(chunkId)));

  const transcript = document.getElementById("transcript");
  const connection = document.getElementById("connection");
  const pageError = document.getElementById("error");
  const form = document.getElementById("ask-form");
  const box = document.getElementById("question");
  const askButton = document.getElementById("ask");
  const cancelButton = document.getElementById("cancel");
  const newButton = document.getElementById("new-conversation");
  const passage = document.getElementById("passage");
  const passageLabel = document.getElementById("passage-label");
  const passageWhere = document.getElementById("passage-where");
  const passageText = document.getElementById("passage-text");
  const passageAttribution = document.getElementById("passage-attribution");

  // Reconnect delays: a quick first retry for a blip, then capped so an outage is not hammered.
  const RETRY_MS = [500, 1000, 2000, 5000, 10000];
  // After a reconnect the server is still writing the answer on its own; poll for up to ~2 minutes.
  const POLL_MS = 1500;
  const POLL_LIMIT = 80;

  let socket = null;
  let failures = 0;
  let conversationId = null;
  let turn = null; // the question in flight, or null

  // --- small DOM helpers ---------------------------------------------------------------------

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function hidden(text) {
    return el("span", "visually-hidden", text);
  }

  function followIfNearBottom() {
    const nearBottom = window.innerHeight + window.scrollY >= document.body.scrollHeight - 200;
    if (nearBottom) window.scrollTo(0, document.body.scrollHeight);
  }

  function showPageError(text) {
    pageError.textContent = text;
    pageError.hidden = !text;
  }

  function setConnection(text) {
    connection.textContent = text;
  }

  function newClientMsgId() {
    if (window.crypto && typeof crypto.randomUUID === "function") return crypto.randomUUID();
    // randomUUID exists only in secure contexts (https, localhost); getRandomValues everywhere.
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function syncButtons() {
    const open = socket !== null && socket.readyState === WebSocket.OPEN;
    askButton.disabled = !open || turn !== null;
    cancelButton.disabled = !open || turn === null || turn.recovering;
    newButton.disabled = turn !== null;
  }

  // --- one question and its answer -------------------------------------------------------------

  function startTurn(question) {
    const item = el("li", "turn");
    const asked = el("p", "question");
    asked.append(hidden("You asked: "), document.createTextNode(question));
    const answer = el("div", "answer");
    answer.append(hidden("Tutor: "));
    const status = el("p", "turn-status small", "Checking your syllabus…");
    item.append(asked, answer, status);
    transcript.append(item);
    followIfNearBottom();
    return { clientMsgId: newClientMsgId(), question, item, answer, status, withheld: 0, shown: 0, dropped: false };
  }

  // A citation names the section as the book prints it ("6.3 Operant Conditioning"); answers
  // saved before sections were numbered have no label, and their topic is the next best name.
  function addSentence(t, text, citations, className = "sentence") {
    const sentence = el("span", className, text);
    const seen = new Set();
    for (const c of citations || []) {
      const label = c.label || c.topic;
      if (seen.has(label)) continue;
      seen.add(label);
      const open = el("button", "link", label);
      open.type = "button";
      open.title = "Read this passage of your syllabus";
      open.addEventListener("click", () => openPassage(c));
      const cite = el("cite", "citation");
      cite.append(open);
      sentence.append(" ", cite);
    }
    t.answer.append(sentence, " ");
    t.shown += 1;
  }

  function addMarked(t, text) {
    const flagged = el("span", "flagged");
    flagged.append(el("del", null, text), " ", el("em", "flag-label", "not in your syllabus"));
    t.answer.append(flagged, " ");
    t.shown += 1;
  }

  function addWithheld(t) {
    t.withheld += 1;
    if (!t.withheldNote) {
      t.withheldNote = el("p", "withheld small");
      t.item.insertBefore(t.withheldNote, t.status);
    }
    t.withheldNote.textContent =
      t.withheld === 1
        ? "One sentence was withheld: not supported by your syllabus."
        : `${t.withheld} sentences were withheld: not supported by your syllabus.`;
  }

  // Hint-first: the guiding question comes with a button that asks the same question again for
  // the whole answer (the ask frame's full_answer).
  function addHintNotice(t, text) {
    const notice = el("div", "notice hint");
    notice.append(el("p", null, text));
    const reveal = el("button", "link", "Show the full answer");
    reveal.type = "button";
    reveal.addEventListener("click", () => {
      if (turn || !socket || socket.readyState !== WebSocket.OPEN) return;
      reveal.disabled = true;
      ask(t.question, { fullAnswer: true });
    });
    notice.append(reveal);
    t.answer.append(notice);
    t.shown += 1;
  }

  function addNotice(t, text, topics) {
    const notice = el("div", "notice");
    notice.append(el("p", null, text));
    if (topics && topics.length) {
      notice.append(el("p", "small", "Nearest topics in your syllabus (choose one to ask about it):"));
      const list = el("ul", "topics");
      for (const topic of topics) {
        const button = el("button", "link", topic);
        button.type = "button";
        button.addEventListener("click", () => {
          const name = topic.split(" › ").pop();
          box.value = `What does my syllabus say about ${name}?`;
          box.focus();
        });
        const li = el("li");
        li.append(button);
        list.append(li);
      }
      notice.append(list);
    }
    t.answer.append(notice);
    t.shown += 1;
  }

  // --- a cited passage, with the attribution its licence asks for wherever its text is shown --------

  async function openPassage(citation) {
    passageLabel.textContent = citation.label || citation.topic;
    passageWhere.textContent = "";
    passageText.textContent = "Loading the passage…";
    passageAttribution.textContent = "";
    if (!passage.open) passage.showModal();
    let response;
    try {
      response = await fetch(passageUrl(citation.chunk_id), {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
    } catch {
      passageText.textContent = "Could not load the passage; try again.";
      return;
    }
    if (!response.ok) {
      passageText.textContent =
        response.status === 404 ? "This passage is no longer in your syllabus." : "Could not load the passage; try again.";
      return;
    }
    const found = await response.json();
    passageLabel.textContent = found.label;
    passageWhere.textContent = found.unit ? `${found.book} · ${found.unit}` : found.book;
    passageText.textContent = found.text;
    passageAttribution.textContent = found.attribution;
  }

  // Ends the turn. Success empties the box; any failure leaves the question there to send again.
  function finishTurn(t, { ok, note, isError }) {
    t.status.textContent = note || "";
    t.status.className = "turn-status small" + (isError ? " error" : "");
    if (isError) t.status.setAttribute("role", "alert");
    if (ok && t.shown === 0 && t.withheld > 0) {
      t.status.textContent = "No part of the answer could be checked against your syllabus; try asking differently.";
    }
    if (ok && box.value.trim() === t.question) box.value = "";
    if (turn === t) turn = null;
    syncButtons();
    if (!ok) box.focus();
    followIfNearBottom();
  }

  // --- frames from the tutor -------------------------------------------------------------------

  function onFrame(frame) {
    const t = turn;
    switch (frame.type) {
      case "accepted":
        if (!t) return;
        conversationId = frame.conversation_id;
        t.status.textContent = "Answering…";
        return;
      case "sentence":
        if (t) addSentence(t, frame.text, frame.citations);
        break;
      case "hint":
        if (t) addSentence(t, frame.text, frame.citations, "sentence clue");
        break;
      case "flagged":
        if (!t) return;
        if (frame.text === null || frame.text === undefined) addWithheld(t);
        else addMarked(t, frame.text);
        break;
      case "notice":
        if (t && frame.kind === "hint_first") addHintNotice(t, frame.text);
        else if (t) addNotice(t, frame.text, frame.topics);
        break;
      case "done":
        if (t) finishTurn(t, { ok: frame.status === "completed", note: "" });
        return;
      case "error":
        if (frame.code === "cancelled" && t) {
          finishTurn(t, { ok: false, note: "Cancelled. Your question is still in the box." });
        } else if (t) {
          finishTurn(t, { ok: false, note: frame.message, isError: true });
        } else if (frame.code !== "nothing_to_cancel") {
          showPageError(frame.message);
        }
        return;
      default:
        return; // a newer server's frame type: ignore it
    }
    followIfNearBottom();
  }

  // --- after a dropped socket: fetch the answer over REST ----------------------------------------

  function renderSaved(t, message) {
    t.answer.replaceChildren(hidden("Tutor: "));
    t.shown = 0;
    t.withheld = 0;
    if (t.withheldNote) t.withheldNote.remove();
    t.withheldNote = null;
    for (const s of message.sentences) {
      if (s.delivery === "released") addSentence(t, s.text, s.citations);
      else if (s.delivery === "marked") addMarked(t, s.text);
      else addWithheld(t);
    }
    if (!message.sentences.length && message.answer) addNotice(t, message.answer, []);
    if (message.mode === "hint") addHintNotice(t, "That was a clue: try it yourself first, then ask for the full answer.");
  }

  async function recover(t, attempt = 0) {
    t.recovering = true;
    syncButtons();
    t.status.textContent = "Reconnected; fetching your answer…";
    let response;
    try {
      response = await fetch(messageUrl(t.clientMsgId), {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
    } catch {
      finishTurn(t, { ok: false, note: "Could not fetch your answer. Send the question again.", isError: true });
      return;
    }
    if (response.status === 404) {
      finishTurn(t, { ok: false, note: "Your question did not reach the tutor. Send it again.", isError: true });
      return;
    }
    if (response.status === 401 || response.status === 403) {
      finishTurn(t, { ok: false, note: "You have been signed out. Log in again, then send your question.", isError: true });
      return;
    }
    if (!response.ok) {
      finishTurn(t, { ok: false, note: "Could not fetch your answer. Send the question again.", isError: true });
      return;
    }
    const message = await response.json();
    conversationId = message.conversation_id;
    renderSaved(t, message);
    if (message.status === "pending" || message.status === "streaming") {
      if (attempt >= POLL_LIMIT) {
        finishTurn(t, { ok: false, note: "The answer is taking too long. Try again later.", isError: true });
        return;
      }
      t.status.textContent = "Still answering…";
      setTimeout(() => recover(t, attempt + 1), POLL_MS);
      return;
    }
    if (message.status === "completed") finishTurn(t, { ok: true, note: "" });
    else if (message.status === "cancelled") finishTurn(t, { ok: false, note: "Cancelled. Your question is still in the box." });
    else finishTurn(t, { ok: false, note: message.error_message || "The tutor could not answer; please try again.", isError: true });
  }

  // --- the socket ------------------------------------------------------------------------------

  function connect() {
    socket = new WebSocket(socketUrl);
    socket.addEventListener("open", () => {
      failures = 0;
      setConnection("Connected to the tutor.");
      showPageError("");
      syncButtons();
      if (turn && turn.dropped && !turn.recovering) recover(turn);
    });
    socket.addEventListener("message", (event) => {
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      onFrame(frame);
    });
    socket.addEventListener("close", () => {
      socket = null;
      if (turn && !turn.recovering) {
        turn.dropped = true;
        turn.status.textContent = "Connection lost; your answer is kept, fetching it when we reconnect…";
      }
      const delay = RETRY_MS[Math.min(failures, RETRY_MS.length - 1)];
      failures += 1;
      setConnection(
        failures > 3
          ? "Cannot reach the tutor. Retrying… (if this lasts, reload the page or log in again)"
          : "Connection lost. Reconnecting…",
      );
      syncButtons();
      setTimeout(connect, delay);
    });
  }

  // --- the form --------------------------------------------------------------------------------

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const question = box.value.trim();
    if (!question) {
      showPageError("Type a question first.");
      box.focus();
      return;
    }
    if (turn) return;
    if (!socket || socket.readyState !== WebSocket.OPEN) {
      showPageError("Not connected to the tutor yet. Your question is kept; try again in a moment.");
      return;
    }
    showPageError("");
    ask(question, { fullAnswer: false });
  });

  function ask(question, { fullAnswer }) {
    turn = startTurn(question);
    const frame = { type: "ask", curriculum, question, client_msg_id: turn.clientMsgId };
    if (conversationId !== null) frame.conversation_id = conversationId;
    if (fullAnswer) frame.full_answer = true;
    socket.send(JSON.stringify(frame));
    syncButtons();
  }

  box.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  cancelButton.addEventListener("click", () => {
    if (!turn || !socket || socket.readyState !== WebSocket.OPEN) return;
    socket.send(JSON.stringify({ type: "cancel" }));
    turn.status.textContent = "Cancelling…";
    cancelButton.disabled = true;
  });

  newButton.addEventListener("click", () => {
    if (turn) return;
    conversationId = null;
    if (transcript.lastElementChild && !transcript.lastElementChild.classList.contains("divider")) {
      transcript.append(el("li", "divider", "New conversation"));
    }
    box.focus();
  });

  connect();
})();
