/* A searchable locality tree over a plain <select data-locality-picker>.

   The select stays the form field (and works without JavaScript): each option carries its
   depth in the tree (data-depth) in tree order. The picker hides it and shows a search box
   and the tree; a node opens or closes its children, choosing a node sets the select's value.
   Typing filters the tree to the localities whose name or code contains the text, with the
   localities above them for context. */
(function () {
  "use strict";

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function picker(select) {
    var nodes = [], stack = [];
    Array.prototype.forEach.call(select.options, function (option) {
      if (!option.value) return;
      var depth = parseInt(option.dataset.depth || "0", 10);
      var node = {value: option.value, label: option.textContent.replace(/^\u3000+/, ""),
                  depth: depth, parent: null, children: [], open: depth < 1};
      while (stack.length && stack[stack.length - 1].depth >= depth) stack.pop();
      if (stack.length) { node.parent = stack[stack.length - 1]; node.parent.children.push(node); }
      stack.push(node);
      nodes.push(node);
    });

    var box = el("div", {"class": "locality-picker", id: select.id + "-picker"});
    var search = el("input", {type: "search", id: select.id + "-search", autocomplete: "off",
                              "aria-label": select.dataset.searchLabel || "Search",
                              placeholder: select.dataset.searchLabel || ""});
    var chosen = el("p", {"class": "picker-chosen", id: select.id + "-chosen", "aria-live": "polite"});
    var tree = el("ul", {role: "tree", "class": "picker-tree", id: select.id + "-tree"});
    var none = el("p", {"class": "hint", hidden: ""}, select.dataset.noneLabel || "–");
    box.appendChild(search); box.appendChild(chosen); box.appendChild(tree); box.appendChild(none);
    select.hidden = true;
    select.required = false;  // the picker shows the choice; the server checks it
    select.parentNode.insertBefore(box, select.nextSibling);

    function path(node) {
      var parts = [];
      for (var n = node; n; n = n.parent) parts.unshift(n.label.split(" · ")[0]);
      return parts.join(" › ");
    }
    function showChosen() {
      var node = nodes.filter(function (n) { return n.value === select.value; })[0];
      chosen.textContent = node ? (select.dataset.chosenLabel || "") + ": " + path(node) + " (" + node.value + ")" : "";
    }
    function choose(node) {
      select.value = node.value;
      select.dispatchEvent(new Event("change", {bubbles: true}));
      showChosen();
      render();
    }

    function render() {
      var query = search.value.trim().toLowerCase();
      var visible = {};
      if (query) {
        nodes.forEach(function (n) {
          if (n.label.toLowerCase().indexOf(query) >= 0 || n.value.toLowerCase().indexOf(query) >= 0) {
            for (var a = n; a; a = a.parent) visible[a.value] = true;
          }
        });
      }
      tree.textContent = "";
      var shown = 0;
      nodes.forEach(function (n) {
        if (query) {
          if (!visible[n.value]) return;
        } else {
          for (var a = n.parent; a; a = a.parent) if (!a.open) return;
        }
        shown += 1;
        var item = el("li", {role: "treeitem", "data-code": n.value, "aria-level": String(n.depth + 1),
                             "aria-selected": String(n.value === select.value)});
        item.style.paddingLeft = (n.depth * 1.25) + "em";
        if (n.children.length) {
          var open = query ? true : n.open;
          item.setAttribute("aria-expanded", String(open));
          var toggle = el("button", {type: "button", "class": "link picker-toggle", "aria-label": open ? "−" : "+"}, open ? "▾" : "▸");
          toggle.addEventListener("click", function () { n.open = !n.open; render(); });
          if (query) toggle.disabled = true;
          item.appendChild(toggle);
        }
        var pick = el("button", {type: "button", "class": "link picker-choose"}, n.label);
        pick.addEventListener("click", function () { choose(n); });
        item.appendChild(pick);
        tree.appendChild(item);
      });
      none.hidden = shown > 0;
    }

    search.addEventListener("input", render);
    search.addEventListener("keydown", function (e) {
      if (e.key === "Enter") e.preventDefault();  // searching never submits the form
    });
    // Open the path to an already chosen locality (a form shown again after an error).
    nodes.forEach(function (n) {
      if (n.value === select.value) for (var a = n.parent; a; a = a.parent) a.open = true;
    });
    showChosen();
    render();
  }

  Array.prototype.forEach.call(document.querySelectorAll("select[data-locality-picker]"), picker);
})();
