// askInline asks a yes/no question in place of the children of box
// (a slip of the finger must not give a seat away or break a link):
// "yes" runs onYes, "no" puts the children back and the focus on back.
// The focus goes to "no", the safe answer.
export function askInline(box, question, yesLabel, noLabel, onYes, back) {
  const kept = [...box.childNodes];
  const wrap = document.createElement("div");
  wrap.className = "confirm";
  const q = document.createElement("p");
  q.textContent = question;
  const yes = document.createElement("button");
  yes.type = "button";
  yes.className = "danger confirm-yes";
  yes.textContent = yesLabel;
  const no = document.createElement("button");
  no.type = "button";
  no.className = "secondary confirm-no";
  no.textContent = noLabel;
  const restore = () => box.replaceChildren(...kept);
  no.addEventListener("click", () => {
    restore();
    back?.focus();
  });
  yes.addEventListener("click", async () => {
    yes.disabled = true;
    restore();
    await onYes();
  });
  wrap.append(q, yes, " ", no);
  box.replaceChildren(wrap);
  no.focus();
}
