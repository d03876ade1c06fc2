// The deals' board: a deal dragged onto another column moves to that column's stage, through
// the form its buttons submit (the server checks the role and the CSRF token as for a click).
// Without script, or without a mouse, the buttons do the same.
(function () {
  "use strict";
  var board = document.querySelector(".board[data-movable]");
  if (!board) {
    return;
  }
  function column(el) {
    return el && el.closest ? el.closest(".column") : null;
  }
  board.addEventListener("dragstart", function (e) {
    var deal = e.target && e.target.closest ? e.target.closest(".deal") : null;
    if (!deal) {
      return;
    }
    e.dataTransfer.setData("text/plain", deal.id);
    e.dataTransfer.effectAllowed = "move";
    deal.classList.add("dragging");
  });
  board.addEventListener("dragend", function (e) {
    if (e.target && e.target.classList) {
      e.target.classList.remove("dragging");
    }
  });
  board.addEventListener("dragover", function (e) {
    if (column(e.target)) {
      e.preventDefault();
      e.dataTransfer.dropEffect = "move";
    }
  });
  board.addEventListener("drop", function (e) {
    var target = column(e.target);
    if (!target) {
      return;
    }
    e.preventDefault();
    var deal = document.getElementById(e.dataTransfer.getData("text/plain"));
    if (!deal || !deal.classList.contains("deal") || column(deal) === target) {
      return;
    }
    var form = deal.querySelector("form.move");
    if (!form) {
      return;
    }
    var stage = document.createElement("input");
    stage.type = "hidden";
    stage.name = "stage";
    stage.value = target.getAttribute("data-stage");
    form.appendChild(stage);
    form.submit();
  });
})();
