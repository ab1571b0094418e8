# Avslag på kommandoer: hvorfor noe ikke kan gjøres (eller ikke nå). Vises på sidene og som
# `error` i JSON-API-et (der på engelsk).

err-recusal-applicant = Du har søkt selv og kan ikke avgjøre denne saken (inhabilitet).
err-recusal-member = Du er medlem av prosjektet og kan ikke avgjøre saken (inhabilitet).
err-release-hds-decides = Helsedataservice har vedtaksmyndigheten for denne datakilden.
err-release-owner-decides = Bare datakildens registerforvalter avgjør denne utleveringen.
err-release-not-in-review = Utleveringer avgjøres mens saken er til behandling.
err-release-decided = Denne utleveringen er allerede avgjort.
err-release-owner-delivers = Bare datakildens registerforvalter leverer dataene.
err-release-not-approved = Bare en innvilget utlevering som ikke er levert, kan leveres.
err-release-after-decision = Data leveres etter vedtaket.
err-role-may-not = Rollen din kan ikke gi denne kommandoen.
err-only-applicant = Bare søkeren kan gjøre dette.
err-not-in-this-state = Kommandoen er ikke tillatt i søknadens nåværende status.
err-decide-releases-first = Alle utleveringer må avgjøres først.
err-appeal-at-helseklage = Klagen ble opprettholdt og sendt til Helseklage; den behandles der.
err-appeal-deadline-passed = Klagefristen (tre uker fra vedtaket) er ute.
err-not-all-delivered = Ikke alle innvilgede utleveringer er levert.
err-close-after-appeal-deadline = Søkeren kan fortsatt klage; avslutt saken etter klagefristen.
err-role-forbids = Rollen din gir ikke adgang til dette.
err-transfer-release-not-approved = Bare en innvilget utlevering kan leveres gjennom en filoverføring.
err-transfer-not-published = Filoverføringen er ikke publisert ennå.
err-passwords-off = Innlogging med passord er slått av her; bruk identitetsleverandøren.
err-retry-dead-only = Bare en melding som er gitt opp, kan sendes på nytt.
err-token-read-only = Dette tokenet kan bare lese.
