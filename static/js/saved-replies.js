// Saved replies, inserted where the cursor is, without reloading the page. Without this script
// the "Insert" button posts the form and the page comes back with the text added at the end.
(function () {
  "use strict";
  var forms = document.querySelectorAll("form[data-saved-replies]");
  Array.prototype.forEach.call(forms, function (form) {
    var button = form.querySelector("button[name=intent][value=insert]");
    var select = form.querySelector("select[name=saved]");
    var box = form.querySelector("textarea[name=body]");
    var said = form.querySelector("[data-inserted]");
    if (!button || !select || !box || typeof box.setRangeText !== "function") {
      return;
    }
    button.addEventListener("click", function (event) {
      var option = select.options[select.selectedIndex];
      var text = option && option.getAttribute("data-text");
      if (!text) {
        return; // Nothing chosen: let the server say so.
      }
      event.preventDefault();
      var start = box.selectionStart;
      var end = box.selectionEnd;
      var before = box.value.slice(0, start);
      // A blank line between what was typed and what is inserted, as the server does.
      var gap = before.trim() === "" ? "" : /\n\n$/.test(before) ? "" : /\n$/.test(before) ? "\n" : "\n\n";
      var after = box.value.slice(end);
      var tail = after.trim() === "" ? "" : /^\n\n/.test(after) ? "" : /^\n/.test(after) ? "\n" : "\n\n";
      box.setRangeText(gap + text + tail, start, end, "end");
      box.focus();
      if (said) {
        said.textContent = "Inserted “" + option.textContent.trim() + "” into your reply.";
      }
    });
  });
})();
