//! In a real browser: Chromium through chromedriver, against the application on a free local port
//! with a fresh database, exactly as readers and staff use it.
//!
//! - `journeys`: a reader's question, a midwife's answer, an admin's invitation and a moderator's
//!   hide, and bad input; each run with JavaScript on and again with it off.
//! - `answering`: a midwife answers questions in a row, with a preview and a saved reply, at 375 px
//!   and 1280 px, with JavaScript on and off.
//! - `overview`: the admin overview with twelve weeks of figures, checked with axe-core and at
//!   375 px and 1280 px, with screenshots.
//! - `pages`: every page type checked with axe-core (WCAG 2.2 AA), with the keyboard alone, and at
//!   375 px and 1280 px, with screenshots.
//! - `settings`: an admin changes the site settings, fixing a mistake on the way, at 375 px and
//!   1280 px, with JavaScript on and off, with screenshots.
//! - `queue`: a moderator's approve, confirmation and Undo, and several approved at once, at
//!   375 px and 1280 px with JavaScript on and off.
//!
//! Without Chromium and chromedriver these tests say so loudly and pass, except in CI (`CI=true`),
//! where they fail. `CHROME_BIN` and `CHROMEDRIVER` point at other copies of either.

mod answering;
mod axe;
mod driver;
mod embed;
mod journeys;
mod overview;
mod pages;
mod queue;
mod settings;
