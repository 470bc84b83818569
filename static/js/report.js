// The report form on a phone: a box to find a person by name in each list of people, one
// person row shown at a time ("Add another person"), and the instruction for sharing nudes
// shown when that category is chosen. No inline script (the content security policy
// forbids it); without JavaScript every row and the instruction are simply all shown.

function matches(option, words, chosen) {
  if (!option.value || option.value === chosen) return true;
  const text = option.textContent.toLowerCase();
  return words.every((word) => text.includes(word));
}

function filtered(node, words, chosen) {
  if (node.tagName === "OPTGROUP") {
    const group = node.cloneNode(false);
    Array.from(node.children).forEach((option) => {
      if (matches(option, words, chosen)) group.append(option.cloneNode(true));
    });
    return group.children.length ? group : null;
  }
  return matches(node, words, chosen) ? node.cloneNode(true) : null;
}

document.querySelectorAll("select[data-person-select]").forEach((select) => {
  const original = Array.from(select.children).map((node) => node.cloneNode(true));
  const search = document.createElement("input");
  search.type = "search";
  search.className = "form-control form-control-sm mb-1";
  search.placeholder = "Type a name to find them";
  search.setAttribute("aria-label", "Find a person by name");
  select.before(search);
  search.addEventListener("input", () => {
    const words = search.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
    const chosen = select.value;
    const kept = original.map((node) => filtered(node, words, chosen)).filter(Boolean);
    select.replaceChildren(...kept);
    select.value = chosen;
    const found = select.querySelectorAll("option:not([value=''])");
    if (words.length && !chosen && found.length === 1) select.value = found[0].value;
  });
});

document.querySelectorAll("[data-people]").forEach((people) => {
  const rows = Array.from(people.querySelectorAll("[data-person-row]"));
  const button = people.querySelector("[data-add-person]");
  const empty = (row) =>
    !row.querySelector("select")?.value &&
    !row.querySelector("input[type=radio]:checked") &&
    !row.querySelector(".text-danger, .is-invalid");
  let shown = rows.length;
  while (shown > 1 && empty(rows[shown - 1]) && empty(rows[shown - 2])) shown -= 1;
  rows.forEach((row, index) => {
    row.hidden = index >= shown;
  });
  const update = () => {
    button.hidden = !rows.some((row) => row.hidden);
  };
  button.addEventListener("click", () => {
    const next = rows.find((row) => row.hidden);
    if (next) {
      next.hidden = false;
      next.querySelector("input[type=search], select")?.focus();
    }
    update();
  });
  update();
});

// the never-view, never-copy instruction beside each category that accepts no file
// (sharing nudes, an AI-generated image of a pupil), shown while that category is chosen
const noFilesBoxes = document.querySelectorAll("[data-report-form] [data-no-files-for]");
if (noFilesBoxes.length) {
  const radios = document.querySelectorAll("input[name=category]");
  const toggle = () => {
    const chosen = Array.from(radios).find((radio) => radio.checked)?.value;
    noFilesBoxes.forEach((box) => {
      box.hidden = box.dataset.noFilesFor !== chosen;
    });
  };
  radios.forEach((radio) => radio.addEventListener("change", toggle));
  toggle();
}
