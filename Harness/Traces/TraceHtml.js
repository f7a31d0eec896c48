
(() => {
  const steps = [...document.querySelectorAll('.step')].sort((a, b) => a.dataset.step - b.dataset.step);
  const panels = new Map([...document.querySelectorAll('#panel .state')].map(p => [p.dataset.stateFor, p]));
  let pinned = document.querySelector('.step.selected');
  const show = step => {
    for (const [key, panel] of panels) panel.hidden = key !== step.dataset.step;
    for (const s of steps) s.classList.toggle('shown', s === step);
  };
  const pin = step => {
    pinned.classList.remove('selected');
    pinned = step;
    step.classList.add('selected');
    show(step);
  };
  for (const s of steps) {
    s.addEventListener('mouseenter', () => show(s));
    s.addEventListener('focus', () => pin(s));
    s.addEventListener('click', () => pin(s));
  }
  document.querySelector('.timeline').addEventListener('mouseleave', () => show(pinned));
  document.addEventListener('keydown', e => {
    const move = { ArrowDown: 1, ArrowUp: -1 }[e.key];
    if (!move) return;
    const next = steps[steps.indexOf(pinned) + move];
    if (next) { e.preventDefault(); next.focus(); next.scrollIntoView({ block: 'nearest' }); }
  });
  document.documentElement.classList.add('js');
})();
