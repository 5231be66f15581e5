#!/usr/bin/perl
# Interop peer for the Mailward DKIM tests, built on Mail::DKIM (Debian `libmail-dkim-perl`).
#
# Usage: maildkim_peer.pl JOBS.json
#
# Same job protocol as dkimpy_peer.py:
#   {"keys": {"<selector>._domainkey.<domain>": "<TXT record text>", ...},
#    "verify": [{"id": ..., "path": "<signed message>"}, ...],
#    "sign":   [{"id": ..., "path": "<message>", "out": "<signed output>", "key": "<PEM key file>",
#                "domain": ..., "selector": ..., "algorithm": "rsa-sha256",
#                "canonicalization": "relaxed/simple", "linesep": "\r\n" | "\n"}, ...]}
# Prints {"verify": {id: {"pass": bool, "error": str}}, "sign": {id: {"ok": bool, "error": str}}}.
#
# Mail::DKIM reads messages in SMTP (CRLF) form, so LF-only input is converted to CRLF before it is
# fed in, as an MTA would on the wire. Keys are served by replacing Mail::DKIM::DNS::query, so no
# DNS is used.
use strict;
use warnings;

use JSON::PP;
use Mail::DKIM::DNS;
use Mail::DKIM::Signer;
use Mail::DKIM::Verifier;
use Net::DNS;

sub slurp {
    my ($path) = @_;
    open( my $fh, '<:raw', $path ) or die "open $path: $!";
    local $/;
    my $data = <$fh>;
    close $fh;
    return $data;
}

sub to_crlf {
    my ($msg) = @_;
    $msg =~ s/\r?\n/\r\n/g;
    return $msg;
}

my $jobs = decode_json( slurp( $ARGV[0] ) );
my %keys;
for my $name ( keys %{ $jobs->{keys} || {} } ) {
    my $k = lc $name;
    $k =~ s/\.$//;
    $keys{$k} = $jobs->{keys}{$name};
}

{
    no warnings 'redefine';
    *Mail::DKIM::DNS::query = sub {
        my ( $name, $type ) = @_;
        $name = lc $name;
        $name =~ s/\.$//;
        if ( uc($type) eq 'TXT' && exists $keys{$name} ) {
            my @chunks = ( $keys{$name} =~ /(.{1,255})/gs );
            $@ = '';
            return Net::DNS::RR->new(
                owner   => $name,
                type    => 'TXT',
                txtdata => [@chunks],
            );
        }
        $@ = 'NXDOMAIN';
        return;
    };
}

my %out = ( verify => {}, sign => {} );

for my $job ( @{ $jobs->{verify} || [] } ) {
    my $id = $job->{id};
    my $ok = eval {
        my $v = Mail::DKIM::Verifier->new();
        $v->PRINT( to_crlf( slurp( $job->{path} ) ) );
        $v->CLOSE;
        my $pass = $v->result eq 'pass';
        $out{verify}{$id} = {
            pass  => $pass ? JSON::PP::true : JSON::PP::false,
            error => $pass ? '' : ( $v->result . ': ' . ( $v->result_detail // '' ) ),
        };
        1;
    };
    $out{verify}{$id} = { pass => JSON::PP::false, error => "exception: $@" } unless $ok;
}

for my $job ( @{ $jobs->{sign} || [] } ) {
    my $id = $job->{id};
    my $ok = eval {
        my $raw = slurp( $job->{path} );
        my $s   = Mail::DKIM::Signer->new(
            Algorithm => $job->{algorithm},
            Method    => $job->{canonicalization},
            Domain    => $job->{domain},
            Selector  => $job->{selector},
            KeyFile   => $job->{key},
        );
        $s->PRINT( to_crlf($raw) );
        $s->CLOSE;
        my $sig = $s->signature->as_string;
        my $sep = $job->{linesep} // "\r\n";
        $sig =~ s/\r?\n/$sep/g;
        open( my $fh, '>:raw', $job->{out} ) or die "open $job->{out}: $!";
        print $fh $sig, $sep, $raw;
        close $fh;
        $out{sign}{$id} = { ok => JSON::PP::true, error => '' };
        1;
    };
    $out{sign}{$id} = { ok => JSON::PP::false, error => "exception: $@" } unless $ok;
}

print encode_json( \%out );
